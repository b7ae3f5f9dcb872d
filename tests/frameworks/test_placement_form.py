"""The "Levels, credits and skills" form: grouped, readable, says which policies apply, checks
before saving and asks before a change that would block publishing (issue 20 item 3, D23)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from frameworks.catalogue.selectors import placement_of
from tests.base import Cast
from tests.frameworks.helpers import choose, draft_micro, import_esco, level, place

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
        "participation": "online",
        "quality_assurance": "NZQA approved",
    }
    data.update(overrides)
    return data


def test_the_form_is_grouped_has_no_dashes_and_names_the_policy_that_applies(
    cast: Cast, client: Client
) -> None:
    choose(cast.owner, cast.institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)
    client.force_login(cast.editor)

    page = client.get(_url(cast, draft.achievement_id), HTTP_ACCEPT_LANGUAGE="en")

    text = page.content.decode()
    assert "---------" not in text
    for legend in ("Levels", "Credits and workload", "Learning outcomes", "EU Annex I elements"):
        assert f"<legend>{legend}</legend>" in text
    assert "Not stated" in text
    assert "Policies that apply" in text
    assert "a level of the NZQCF; 5 to 40 NZQCF credits; whole NZQCF credits" in text


def test_check_shows_the_hours_warning_before_saving_and_saves_nothing(
    cast: Cast, client: Client
) -> None:
    choose(cast.owner, cast.institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)
    client.force_login(cast.editor)

    page = client.post(
        _url(cast, draft.achievement_id), {**_form(notional_hours="100"), "action": "check"}
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert (
        "Warning: NZQCF micro-credential: 100 notional hours do not match 15 NZQCF credits" in text
    )
    assert placement_of(draft) is None


def test_a_placement_change_that_would_block_publishing_asks_first(
    cast: Cast, client: Client
) -> None:
    choose(cast.owner, cast.institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft)
    client.force_login(cast.editor)

    asked = client.post(
        _url(cast, draft.achievement_id), {**_form(level_nzqcf=""), "action": "save"}
    )

    text = asked.content.decode()
    assert "Saving this would stop version 1 from being published" in text
    assert "Place it at a level of the NZQCF." in text
    assert 'value="confirm"' in text
    placement = placement_of(draft)
    assert placement is not None and [p.level.code for p in placement.levels.all()] == ["4"]

    saved = client.post(
        _url(cast, draft.achievement_id), {**_form(level_nzqcf=""), "action": "confirm"}
    )

    assert saved.status_code == 302
    placement = placement_of(draft)
    assert placement is not None and list(placement.levels.all()) == []


def test_a_harmless_placement_change_is_saved_at_once(cast: Cast, client: Client) -> None:
    choose(cast.owner, cast.institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft)
    client.force_login(cast.editor)

    saved = client.post(
        _url(cast, draft.achievement_id), {**_form(notional_hours="150.5"), "action": "save"}
    )

    assert saved.status_code == 302
    placement = placement_of(draft)
    assert placement is not None and placement.notional_hours == Decimal("150.5")


def test_a_search_that_matches_nothing_says_what_the_frameworks_contain(
    cast: Cast, client: Client
) -> None:
    import_esco(cast.owner, cast.institution)
    client.force_login(cast.editor)

    found = client.get(
        reverse("manage:competencies_search", args=[cast.institution.slug]), {"q": "data"}
    )

    text = found.content.decode()
    assert "No competencies match “data”." in text
    assert "2 items" in text
    assert "Python (computer programming)" in text
