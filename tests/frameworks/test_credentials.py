"""Credentials carry level, credits and competencies; they pass ob3check and verify."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from achievements import services as achievement_services
from frameworks.competencies import importers
from frameworks.competencies.services import import_competency_framework
from openbadges import ob3check
from tests.badges.helpers import award, verify_served
from tests.base import Cast
from tests.frameworks.helpers import draft_micro, import_esco, place

pytestmark = pytest.mark.django_db

CASE_PACKAGE = {
    "CFDocument": {
        "identifier": "c5fb0812-d7cb-11e8-824f-0242ac160002",
        "uri": "https://case.example/uri/c5fb0812-d7cb-11e8-824f-0242ac160002",
        "title": "Digital Skills Standards",
        "creator": "Standards Body",
    },
    "CFItems": [
        {
            "identifier": "74f5bb7d-d7cc-11e8-824f-0242ac160002",
            "uri": "https://case.example/uri/74f5bb7d-d7cc-11e8-824f-0242ac160002",
            "fullStatement": "Cite strong and thorough textual evidence.",
            "humanCodingScheme": "DS.1",
        },
        {"identifier": "no-uri", "fullStatement": "Skipped: an item needs a URI."},
    ],
}


def test_the_credential_states_type_credits_with_unit_level_and_esco_skills(
    cast: Cast, client: Client
) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    skills = import_esco(cast.editor, cast.institution)
    place(cast.editor, draft, competencies=skills)
    version = achievement_services.publish_version(actor=cast.editor, version=draft)

    credential = award(cast.awarder, version).credential
    achievement = credential["credentialSubject"]["achievement"]

    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["creditsAvailable"] == 15
    assert achievement["description"].endswith(
        "Level: NZQCF Level 4. Credits: 15 NZQCF credits. Workload: 150 notional hours."
    )
    level, python, spreadsheets = achievement["alignment"]
    assert level["targetName"] == "NZQCF Level 4"
    assert level["targetCode"] == "4"
    assert level["targetUrl"].endswith("/frameworks/nzqcf#level-4")
    assert python == {
        "type": ["Alignment"],
        "targetName": "Python (computer programming)",
        "targetUrl": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d",
        "targetCode": "ccd0a1d9-afda-43d9-b901-96344886e14d",
        "targetDescription": "Programming in Python.",
        "targetFramework": "ESCO skills",
    }
    assert spreadsheets["targetName"] == "use spreadsheets software"
    assert ob3check.check_credential(credential) == []
    assert verify_served(client, credential).verified
    page = client.get(reverse("framework_public", args=["nzqcf"]))
    assert 'id="level-4"' in page.content.decode()


def test_a_chinese_credential_states_level_and_credits_in_chinese(cast: Cast) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, levels=(("eqf", "5"),), credits=(("ects", "5"),), notional_hours=125)
    version = achievement_services.publish_version(actor=cast.editor, version=draft)

    achievement = award(cast.awarder, version, language="zh-Hans").credential["credentialSubject"][
        "achievement"
    ]

    assert achievement["alignment"][0]["targetUrl"] == "http://data.europa.eu/snb/eqf/5"
    assert "ECTS 学分" in achievement["description"]


def test_a_case_item_is_aligned_as_a_cfitem_keeping_its_uri(cast: Cast) -> None:
    framework = import_competency_framework(
        actor=cast.editor, institution=cast.institution, content=json.dumps(CASE_PACKAGE).encode()
    )
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, levels=(), credits=(), competencies=list(framework.items.all()))
    version = achievement_services.publish_version(actor=cast.editor, version=draft)

    (alignment,) = award(cast.awarder, version).credential["credentialSubject"]["achievement"][
        "alignment"
    ]

    assert alignment["targetType"] == "CFItem"
    assert alignment["targetUrl"] == "https://case.example/uri/74f5bb7d-d7cc-11e8-824f-0242ac160002"
    assert alignment["targetCode"] == "DS.1"
    assert alignment["targetFramework"] == "Digital Skills Standards"


def test_a_new_version_keeps_the_placement_and_the_published_one_is_frozen(cast: Cast) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft)
    published = achievement_services.publish_version(actor=cast.editor, version=draft)

    second = achievement_services.save_draft(
        actor=cast.editor, achievement=published.achievement, name_en="Data Literacy II"
    )

    assert second.placement.credits.get().amount == 15
    assert second.placement.levels.get().level.code == "4"
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        place(cast.editor, published, credits=(("nzqcf-credit", "20"),))


def test_esco_json_ld_keeps_concept_uris() -> None:
    parsed = importers.parse_esco_jsonld(
        {
            "@graph": [
                {
                    "@id": "http://data.europa.eu/esco/skill/abc",
                    "skos:prefLabel": [
                        {"@language": "de", "@value": "Daten analysieren"},
                        {"@language": "en", "@value": "analyse data"},
                    ],
                }
            ]
        }
    )
    assert [(i.uri, i.label, i.code) for i in parsed.items] == [
        ("http://data.europa.eu/esco/skill/abc", "analyse data", "abc")
    ]


def test_reimporting_esco_updates_items_in_place(cast: Cast) -> None:
    first = import_esco(cast.editor, cast.institution)
    again = import_esco(cast.editor, cast.institution)
    assert [i.pk for i in first] == [i.pk for i in again]


def test_the_demo_has_an_nzqcf_level_4_and_an_eqf_ects_micro_credential(client: Client) -> None:
    import io

    from django.core.management import call_command

    from badges.models import Award

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent

    nz = Award.objects.get(
        achievement_version__achievement__slug="nzqcf-data-analysis",
        recipient_email="aroha.learner@demo.insignia.test",
    )
    partial = Award.objects.get(
        achievement_version__achievement__slug="nzqcf-data-analysis",
        recipient_email="mele.learner@demo.insignia.test",
    )
    eu = Award.objects.get(
        achievement_version__achievement__slug="eqf-digital-marketing",
        recipient_email="sofia.learner@demo.insignia.test",
    )
    nz_achievement = nz.credential["credentialSubject"]["achievement"]
    eu_achievement = eu.credential["credentialSubject"]["achievement"]
    assert nz_achievement["creditsAvailable"] == 15
    assert nz_achievement["alignment"][0]["targetName"] == "NZQCF Level 4"
    assert {a["targetUrl"] for a in nz_achievement["alignment"][1:]} == {
        "http://data.europa.eu/esco/skill/1973c966-f236-40c9-b2d4-5d71a89019be",
        "http://data.europa.eu/esco/skill/234aeb8d-56c3-4531-9193-1c5e6a8d16cb",
    }
    assert eu_achievement["alignment"][0]["targetUrl"] == "http://data.europa.eu/snb/eqf/5"
    assert "5 ECTS credits" in eu_achievement["description"]
    page = client.get(reverse("credential", args=[nz.pk])).content.decode()
    assert "NZQCF Level 4" in page
    assert "Credits: 15 NZQCF credits." in page
    assert "use spreadsheets software" in page
    assert verify_served(client, nz.credential).verified
    assert "creditsEarned" not in nz.credential["credentialSubject"]
    assert partial.credential["credentialSubject"]["creditsEarned"] == 10
    partial_page = client.get(reverse("credential", args=[partial.pk])).content.decode()
    assert "10 of 15 earned" in partial_page


def test_the_verify_page_shows_level_credits_and_skills_in_words(
    cast: Cast, client: Client
) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, competencies=import_esco(cast.editor, cast.institution))
    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    given = award(cast.awarder, version)

    body = client.get(reverse("verify"), {"url": given.credential["id"]}).content.decode()

    assert 'data-verdict="valid"' in body
    assert "NZQCF Level 4" in body
    assert "Credits: 15 NZQCF credits." in body
    assert "use spreadsheets software" in body
