"""Builders for the badge tests: published micro-credentials, awards, and verification
against the DID document the server actually serves."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.test import Client

from accounts.models import User
from achievements import services as achievement_services
from awarding import services as awarding_services
from badges import selectors
from badges.models import Achievement, AchievementVersion, Award
from issuers.models import Issuer
from openbadges import dataintegrity, didweb, multikey

CONTENT: dict[str, Any] = {
    "name_en": "Data Literacy",
    "name_zh": "数据素养",
    "description_en": "Reads, cleans and explains a data set.",
    "description_zh": "能够读取、清理并解释数据集。",
    "criteria_en": "Pass the **final assessment** with at least 70%.",
    "criteria_zh": "期末评估成绩达到 **70%** 以上。",
    "tags": ["data", "statistics"],
    "validity_days": 730,
    "result_descriptions": [
        {
            "name_en": "Final grade",
            "name_zh": "最终成绩",
            "result_type": "LetterGrade",
            "allowed_values": ["A", "B", "C"],
        }
    ],
}


def make_achievement(
    actor: User, issuer: Issuer, slug: str = "data-literacy", **overrides: Any
) -> Achievement:
    return achievement_services.create_achievement(
        actor=actor, issuer=issuer, slug=slug, **{**CONTENT, **overrides}
    )


def make_published(
    actor: User, issuer: Issuer, slug: str = "data-literacy", **overrides: Any
) -> AchievementVersion:
    achievement = make_achievement(actor, issuer, slug, **overrides)
    draft = selectors.draft_of(achievement)
    assert draft is not None
    return achievement_services.publish_version(
        actor=actor, version=draft, change_note="First edition"
    )


def award(actor: User | None, version: AchievementVersion, **overrides: Any) -> Award:
    fields: dict[str, Any] = {"email": "Learner@Example.com", "name": "Lee Learner"}
    return awarding_services.award_badge(actor=actor, version=version, **{**fields, **overrides})


def served_did_document(client: Client, did: str) -> dict[str, Any]:
    path = urlsplit(didweb.did_web_document_url(did, scheme="http")).path
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    document: dict[str, Any] = json.loads(response.content)
    return document


def verify_served(client: Client, credential: dict[str, Any]) -> dataintegrity.VerificationResult:
    """Verify as an outside verifier would: resolve the proof's verificationMethod in the DID
    document served for ``issuer.id``, check it is an assertion method the issuer controls."""
    issuer_id = credential["issuer"]["id"]
    method_id = credential["proof"][0]["verificationMethod"]
    document = served_did_document(client, issuer_id)
    methods = {m["id"]: m for m in document.get("verificationMethod", [])}
    method = methods.get(method_id)
    if method is None or method_id not in document.get("assertionMethod", []):
        return dataintegrity.VerificationResult(False, f"{method_id} is not in the DID document")
    assert method["controller"] == issuer_id == document["id"]
    public = multikey.public_key_from_bytes(
        multikey.decode_public_multibase(method["publicKeyMultibase"])
    )
    return dataintegrity.verify(credential, public_key=public, verification_method=method_id)
