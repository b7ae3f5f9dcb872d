"""Text a badge cannot carry (issue 18 d): characters XML 1.0 does not allow (U+FFFE, U+FFFF,
C0 controls other than tab/LF/CR, lone surrogates) are refused where staff type them, and a
credential already signed with one is still served as a valid, verifiable baked SVG."""

from __future__ import annotations

import json
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from badges.models import Achievement, AchievementVersion, Award
from badges.services import EvidenceItem
from openbadges import baking
from tests.badges.helpers import award, make_achievement, make_published
from tests.base import Cast
from verification import pipeline
from verification.report import Verdict

pytestmark = pytest.mark.django_db

BASE = "https://badges.poly.example"
BAD = ["\uffff", "\ufffe", "\x01", "\x1f", "\ud800"]


@pytest.mark.parametrize("char", BAD, ids=[f"U+{ord(c):04X}" for c in BAD])
@pytest.mark.parametrize("field", ["name", "narrative", "evidence"])
def test_an_award_with_a_character_a_badge_cannot_carry_is_refused(
    cast: Cast, field: str, char: str
) -> None:
    version = make_published(cast.editor, cast.issuer)
    text = f"Did it well{char}."
    given: dict[str, Any] = {field: text}
    if field == "evidence":
        given = {"evidence": [EvidenceItem(url="", narrative=text)]}

    with pytest.raises(ValidationError) as refused:
        award(cast.awarder, version, **given)

    (message,) = refused.value.message_dict[field]
    assert f"(U+{ord(char):04X}," in message
    assert "cannot be put in a badge" in message
    assert not Award.objects.exists()


def test_the_award_form_says_which_character_to_delete(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.awarder)

    response = client.post(
        f"/manage/poly/achievements/{version.achievement_id}/award/",
        {"email": "lee@example.com", "language": "en", "narrative": "Welded \uffff well"},
    )

    assert response.status_code == 400
    assert "cannot be put in a badge (U+FFFF" in response.content.decode()
    assert not Award.objects.exists()


@pytest.mark.parametrize(
    "field", ["name_en", "description_zh", "criteria_en", "evidence_required_en", "tags"]
)
def test_achievement_text_with_such_a_character_is_refused(cast: Cast, field: str) -> None:
    value: Any = ["data", "stat\ufffeistics"] if field == "tags" else "Reads data\uffff."

    with pytest.raises(ValidationError) as refused:
        make_achievement(cast.editor, cast.issuer, **{field: value})

    assert "cannot be put in a badge" in refused.value.message_dict[field][0]
    assert not Achievement.objects.exists()


def test_the_achievement_form_shows_the_refusal_at_the_field(client: Client, cast: Cast) -> None:
    client.force_login(cast.editor)
    form = {
        "issuer": "poly-engineering",
        "slug": "welding-1",
        "name_en": "Safe Welding",
        "description_en": "Welds safely.",
        "criteria_en": "Pass the practical\uffff.",
        "achievement_type": "MicroCredential",
    }

    response = client.post("/manage/poly/achievements/new/", form)

    assert response.status_code == 200
    assert "cannot be put in a badge (U+FFFF" in response.content.decode()
    assert not Achievement.objects.exists()


def test_tab_newline_and_other_scripts_are_still_accepted(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    given = award(cast.awarder, version, narrative="第一行\n\tsecond line\r\n😀 \ufffd")
    assert given.credential["credentialSubject"]["narrative"].startswith("第一行")


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_a_credential_stored_with_u_ffff_is_served_as_a_valid_baked_svg(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    # Text stored before such characters were refused: the credential signs it as it is.
    AchievementVersion.objects.filter(pk=version.pk).update(name_en="Data\uffff Literacy\ufffe")
    issued = award(cast.awarder, AchievementVersion.objects.get(pk=version.pk))
    stored = json.loads(issued.credential_json)
    assert stored["credentialSubject"]["achievement"]["name"] == "Data\uffff Literacy\ufffe"

    response = client.get(f"/credentials/{issued.pk}.svg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    SafeET.fromstring(response.content)  # well-formed XML 1.0
    found = baking.extract(response.content)
    assert found is not None and found.json() == stored
    report = pipeline.verify(pipeline.VerifyRequest(upload=response.content, filename="badge.svg"))
    assert report.verdict is Verdict.VALID, report.as_json()
    png = client.get(f"/credentials/{issued.pk}.png")
    assert png.status_code == 200
    found_png = baking.extract(png.content)
    assert found_png is not None and found_png.payload == issued.credential_json
