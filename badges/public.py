"""Public pages: a credential at its URL, an achievement and each of its versions.

Each is HTML for people and JSON for machines (content negotiation, DESIGN.md §4). A
credential's JSON is the exact stored text, served byte for byte.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_safe

from badges import credentials, markdown, selectors
from badges.diff import changes
from badges.models import AchievementVersion
from badges.negotiation import json_type
from issuers.keys import issuer_did


def json_response(body: str | bytes, media_type: str) -> HttpResponse:
    """A public JSON answer: any origin may read it (verifiers run in browsers too)."""
    response = HttpResponse(body, content_type=f"{media_type}; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Vary"] = "Accept"
    return response


def _html(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, template, context)
    response["Vary"] = "Accept, Accept-Language, Cookie"
    return response


@require_safe
def credential(request: HttpRequest, award_id: uuid.UUID, as_json: bool = False) -> HttpResponse:
    """``/credentials/<id>``: the signed credential as it was issued, or a page about it."""
    award = selectors.public_award(award_id)
    media = "application/json" if as_json else json_type(request)
    if media is not None:
        return json_response(award.credential_json.encode("utf-8"), media)
    document = json.loads(award.credential_json)
    subject = document.get("credentialSubject", {})
    achievement = subject.get("achievement", {})
    context = {
        "award": award,
        "document": document,
        "achievement": achievement,
        "criteria_html": markdown.render(achievement.get("criteria", {}).get("narrative", "")),
        "issuer": award.issuer,
        "evidence": document.get("evidence", []),
        "narrative": subject.get("narrative", ""),
        "version": award.achievement_version,
        "content_language": award.language,
    }
    return _html(request, "badges/credential.html", context)


def _reader_language(version: AchievementVersion) -> str:
    wanted = credentials.language_of(translation.get_language() or "en")
    available = version.languages()
    return wanted if wanted in available or not available else available[0]


def _version_context(version: AchievementVersion) -> dict[str, Any]:
    language = _reader_language(version)
    return {
        "version": version,
        "language": language,
        "name": version.text("name", language),
        "description": version.text("description", language),
        "criteria_html": markdown.render(version.text("criteria", language)),
        "evidence_required": version.text("evidence_required", language),
        "issuer": version.achievement.issuer,
        "issuer_did": issuer_did(version.achievement.issuer),
        "version_url": credentials.version_url(version),
    }


@require_safe
def achievement(request: HttpRequest, achievement_id: uuid.UUID) -> HttpResponse:
    """``/achievements/<id>``: the current version and every version with what changed."""
    found = selectors.public_achievement(achievement_id)
    versions = list(selectors.published_versions(found).select_related("image"))
    latest = versions[-1]
    media = json_type(request, ("application/ld+json", "application/json"))
    if media is not None:
        language = _reader_language(latest)
        return json_response(
            json.dumps(credentials.achievement_document(latest, language), ensure_ascii=False),
            media,
        )
    history = [
        {"version": v, "changes": changes(versions[i - 1], v) if i else []}
        for i, v in enumerate(versions)
    ]
    context = {**_version_context(latest), "history": list(reversed(history)), "is_latest": True}
    return _html(request, "badges/achievement.html", context)


@require_safe
def achievement_version(
    request: HttpRequest, achievement_id: uuid.UUID, number: int
) -> HttpResponse:
    """``/achievements/<id>/v/<n>``: the ``id`` of the OB 3.0 Achievement in credentials."""
    version = selectors.public_version(achievement_id, number)
    media = json_type(request, ("application/ld+json", "application/json"))
    if media is not None:
        document = credentials.achievement_document(version, _reader_language(version))
        return json_response(json.dumps(document, ensure_ascii=False), media)
    latest = selectors.published_versions(version.achievement).order_by("-number").first()
    context = {**_version_context(version), "is_latest": latest == version, "latest": latest}
    return _html(request, "badges/version.html", context)
