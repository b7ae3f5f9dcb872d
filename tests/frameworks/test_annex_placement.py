"""The EU Annex I element the console lacked, "supervision and identity verification during
assessment": in the placement form (a choice, refused when unknown), the placement API, the
version history (named, in words) and the demo micro-credential, whose signed credential
carries every element the console records and whose public and verify pages show them."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from html import unescape

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from achievements import diff
from achievements import services as achievement_services
from badges.models import Award
from frameworks.catalogue.selectors import placement_of
from tests.badges.test_annex_credential import ANNEX_KEYS
from tests.base import Cast
from tests.frameworks.helpers import draft_micro, level, place

pytestmark = pytest.mark.django_db


def _url(cast: Cast, achievement_id: object) -> str:
    return reverse("manage:achievement_placement", args=[cast.institution.slug, achievement_id])


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "level_nzqcf": str(level("nzqcf", "4").pk),
        "credits_nzqcf-credit": "15",
        "notional_hours": "150",
        "outcomes_en": "Cleans a data set.",
        "assessment_type": "portfolio",
        "assessment_supervision": "supervised_onsite_id",
        "participation": "online",
        "quality_assurance": "NZQA approved",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_the_form_offers_the_supervision_choices_and_saves_one(cast: Cast, client: Client) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    client.force_login(cast.editor)

    form = client.get(_url(cast, draft.achievement_id), HTTP_ACCEPT_LANGUAGE="en")
    text = form.content.decode()
    assert 'name="assessment_supervision"' in text
    for label in (
        "Unsupervised, no identity verification",
        "Supervised, no identity verification",
        "Supervised online, identity verified",
        "Supervised on site, identity verified",
    ):
        assert label in text
    saved = client.post(_url(cast, draft.achievement_id), _form())

    assert saved.status_code == 302
    placement = placement_of(draft)
    assert placement is not None and placement.assessment_supervision == "supervised_onsite_id"


def test_an_unknown_supervision_value_is_refused_and_nothing_is_saved(
    cast: Cast, client: Client
) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    client.force_login(cast.editor)

    refused = client.post(
        _url(cast, draft.achievement_id), _form(assessment_supervision="proctored-by-owls")
    )

    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    assert placement_of(draft) is None


def test_the_placement_api_states_it(cast: Cast, client: Client) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, assessment_supervision="supervised_no_id")
    achievement_services.publish_version(actor=cast.editor, version=draft)

    placement = client.get(reverse("api_placement", args=[draft.achievement_id])).json()

    assert placement["assessment_supervision"] == "supervised_no_id"


def test_the_version_history_names_a_change_of_supervision_in_words(cast: Cast) -> None:
    first = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, first, assessment_supervision="supervised_no_id")
    achievement_services.publish_version(actor=cast.editor, version=first)
    second = achievement_services.save_draft(actor=cast.editor, achievement=first.achievement)
    place(cast.editor, second, assessment_supervision="supervised_online_id")

    changes = diff.changes(first, second)

    assert [(c.label, c.before, c.after) for c in changes] == [
        (
            "Supervision and identity verification",
            "Supervised, no identity verification",
            "Supervised online, identity verified",
        )
    ]


def _section(html: str) -> str:
    match = re.search(r"<section class=\"annex\".*?</section>", html, re.S)
    assert match, "no micro-credential section"
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))))


def test_the_demo_micro_credential_carries_and_shows_every_element(client: Client) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    demo = Award.objects.filter(
        achievement_version__achievement__slug="eqf-digital-marketing", language="en"
    ).first()
    assert demo is not None

    achievement = demo.credential["credentialSubject"]["achievement"]
    assert set(ANNEX_KEYS) <= set(achievement), set(ANNEX_KEYS) - set(achievement)
    assert achievement["notionalHours"] == 130
    assert achievement["assessmentSupervision"] == "supervised_online_id"
    page = _section(
        client.get(f"/credentials/{demo.pk}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    verified = client.post(reverse("verify"), {"text": demo.credential_json})
    result = _section(verified.content.decode())
    for shown in (page, result):
        assert "Workload 130 hours (5 ECTS credits)" in shown
        assert "Level EQF 5" in shown
        assert "Assessment Testing" in shown
        assert "Participation Online" in shown
        assert "Identity verification Yes: supervised online, identity checked" in shown
        assert "Quality assurance Internal quality assurance (ESG Part 1)" in shown
        assert "Prerequisites Basic spreadsheet skills" in shown
        assert "Can be combined with Nothing: it is a stand-alone credential" in shown
        assert "Reads campaign metrics." in shown
    assert Decimal(str(achievement["creditsAvailable"])) == 5
