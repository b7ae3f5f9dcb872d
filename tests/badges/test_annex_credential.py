"""The EU micro-credential record (Annex I) travels inside the signed credential: every
element the console records, in English and Chinese, under Insignia's context; the strict
1EdTech schema accepts it, our verifier and the Digital Bazaar verifier (over a live server)
verify it; absent elements are simply omitted; the context is served as pinned."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer

from achievements import services as achievement_services
from badges.models import AchievementVersion, Award
from openbadges import jsonld, ob3
from tests.badges.helpers import award, verify_served
from tests.base import Cast, make_cast
from tests.frameworks.helpers import draft_micro, place, reference, system
from tests.interop.test_project_credentials import run_verifier
from tests.ob3api.helpers import strict_errors

ANNEX_KEYS = (
    "learningOutcomes",
    "notionalHours",
    "creditValue",
    "qualificationLevel",
    "assessmentType",
    "assessmentSupervision",
    "participation",
    "qualityAssurance",
    "prerequisites",
    "stackability",
)


def full_micro(cast: Cast, slug: str = "data-analytics") -> AchievementVersion:
    """An EQF 5 / 6 ECTS micro-credential with every Annex I element the console records."""
    reference()
    draft = draft_micro(cast.editor, cast.issuer, slug)
    place(
        cast.editor,
        draft,
        levels=(("eqf", "5"),),
        credits=(("ects", "6"),),
        notional_hours=Decimal(150),
        outcomes_en="Cleans a data set.\nExplains a chart to a manager.",
        outcomes_zh="清理数据集。\n向经理解释图表。",
        assessment_type="portfolio",
        assessment_supervision="supervised_online_id",
        participation="online",
        quality_assurance="Internal quality assurance (ESG Part 1)",
        prerequisites="Secondary school mathematics",
        stackability="stackable",
    )
    return achievement_services.publish_version(actor=cast.editor, version=draft)


def _achievement(issued: Award) -> dict[str, Any]:
    achievement: dict[str, Any] = issued.credential["credentialSubject"]["achievement"]
    return achievement


@pytest.mark.django_db
def test_every_element_is_signed_into_the_english_credential(cast: Cast, client: Client) -> None:
    issued = award(cast.awarder, full_micro(cast))

    assert issued.credential["@context"] == [*ob3.CREDENTIAL_CONTEXT, ob3.MICROCREDENTIAL_CONTEXT]
    achievement = _achievement(issued)
    assert achievement["learningOutcomes"] == [
        "Cleans a data set.",
        "Explains a chart to a manager.",
    ]
    assert achievement["notionalHours"] == 150
    assert achievement["creditValue"] == [
        {"creditSystem": "ects", "creditUnit": "ECTS credits", "creditAmount": 6}
    ]
    assert achievement["creditsAvailable"] == 6
    assert achievement["qualificationLevel"] == ["EQF 5"]
    assert any(a.get("targetCode") == "5" for a in achievement["alignment"])
    assert achievement["assessmentType"] == "portfolio"
    assert achievement["assessmentSupervision"] == "supervised_online_id"
    assert achievement["participation"] == "online"
    assert achievement["qualityAssurance"] == "Internal quality assurance (ESG Part 1)"
    assert achievement["prerequisites"] == "Secondary school mathematics"
    assert achievement["stackability"] == "stackable"
    assert strict_errors(issued.credential, "achievementcredential.json") == []
    assert verify_served(client, issued.credential).verified


@pytest.mark.django_db
def test_the_chinese_credential_carries_the_chinese_outcomes_and_units(
    cast: Cast, client: Client
) -> None:
    issued = award(cast.awarder, full_micro(cast), email="li@example.com", language="zh-Hans")

    achievement = _achievement(issued)
    assert achievement["inLanguage"] == "zh-Hans"
    assert achievement["learningOutcomes"] == ["清理数据集。", "向经理解释图表。"]
    ects = system("ects")
    assert achievement["creditValue"][0]["creditUnit"] == (ects.unit_zh or ects.unit_en)
    assert achievement["assessmentSupervision"] == "supervised_online_id"
    assert set(ANNEX_KEYS) <= set(achievement)
    assert strict_errors(issued.credential, "achievementcredential.json") == []
    assert verify_served(client, issued.credential).verified


@pytest.mark.django_db
def test_absent_elements_are_omitted_and_no_elements_means_no_extra_context(cast: Cast) -> None:
    reference()
    sparse = draft_micro(cast.editor, cast.issuer, "sparse")
    place(
        cast.editor,
        sparse,
        levels=(),
        credits=(),
        notional_hours=None,
        outcomes_en="",
        assessment_type="",
        participation="online",
        quality_assurance="",
    )
    issued = award(
        cast.awarder, achievement_services.publish_version(actor=cast.editor, version=sparse)
    )
    achievement = _achievement(issued)
    assert achievement["participation"] == "online"
    assert not set(ANNEX_KEYS) - {"participation"} & set(achievement)
    assert strict_errors(issued.credential, "achievementcredential.json") == []

    bare = draft_micro(cast.editor, cast.issuer, "bare")
    plain = award(
        cast.awarder, achievement_services.publish_version(actor=cast.editor, version=bare)
    )
    assert plain.credential["@context"] == list(ob3.CREDENTIAL_CONTEXT)
    assert not set(ANNEX_KEYS) & set(_achievement(plain))


@pytest.mark.django_db
def test_the_published_achievement_names_the_context_too(cast: Cast, client: Client) -> None:
    version = full_micro(cast)
    served = client.get(
        reverse("achievement_version", args=[version.achievement_id, version.number]),
        HTTP_ACCEPT="application/ld+json",
    ).json()
    assert served["@context"][-1] == ob3.MICROCREDENTIAL_CONTEXT
    assert served["assessmentSupervision"] == "supervised_online_id"
    jsonld.canonicalize(served)  # every term defined: safe mode accepts it


@pytest.mark.django_db
def test_the_platform_serves_the_context_exactly_as_pinned(client: Client) -> None:
    response = client.get(reverse("microcredential_context"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    manifest = json.loads((jsonld.CONTEXTS_DIR / "manifest.json").read_text())
    pinned = manifest["contexts"][ob3.MICROCREDENTIAL_CONTEXT]["sha256"]
    assert hashlib.sha256(response.content).hexdigest() == pinned
    assert json.loads(response.content) == jsonld.load_context(ob3.MICROCREDENTIAL_CONTEXT)


@pytest.mark.usefixtures("transactional_db")
def test_digital_bazaar_verifies_the_platforms_micro_credentials_in_both_languages(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        version = full_micro(cast)
        files = []
        for language in ("en", "zh-Hans"):
            issued = award(
                cast.awarder, version, email=f"{language}@example.com", language=language
            )
            path = tmp_path / f"{language}.json"
            path.write_text(issued.credential_json, encoding="utf-8")
            files.append(path)
        tampered = json.loads(files[0].read_text("utf-8"))
        tampered["credentialSubject"]["achievement"]["notionalHours"] = 15
        (tmp_path / "tampered.json").write_text(json.dumps(tampered), "utf-8")
        files.append(tmp_path / "tampered.json")
        returncode, lines = run_verifier(live_server.url, *files)

    assert [line["verified"] for line in lines] == [True, True, False], lines
    assert returncode == 1
