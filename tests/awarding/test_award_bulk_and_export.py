"""Bulk actions and exports of the awards list (issue 20), and the confirmation before one
badge is revoked (D10): nothing changes before a confirmation page has shown the exact number
and a sample of whose badges; a confirmation whose number is no longer right is refused; an
export of the filter comes out with every formula cell neutralised, as CSV and as XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from awarding.revocation import services as revocation_services
from badges.models import AchievementVersion, Award, AwardStatus
from tests.badges.helpers import award, make_published
from tests.base import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(cast: Cast) -> AchievementVersion:
    return make_published(cast.editor, cast.issuer)


def _bulk(client: Client, cast: Cast, **data: Any) -> Any:
    return client.post(reverse("manage:awards_bulk", args=[cast.institution.slug]), data)


def _statuses() -> dict[str, str]:
    return dict(Award.objects.values_list("recipient_name", "status"))


def test_revoke_all_matching_shows_the_count_then_refuses_a_changed_count(
    client: Client, cast: Cast, version: AchievementVersion
) -> None:
    for i in range(3):
        award(cast.awarder, version, email=f"cohort{i}@example.com", name=f"Cohort {i}")
    award(cast.awarder, version, email="other@example.com", name="Someone Else")
    client.force_login(cast.editor)

    shown = _bulk(client, cast, action="revoke", scope="all", q="Cohort")

    assert shown.status_code == 200
    page = shown.content.decode()
    assert "3 badges will be revoked." in page and "Cohort 0" in page
    assert "Someone Else" not in page
    assert set(_statuses().values()) == {AwardStatus.ACTIVE}  # nothing yet

    # Meanwhile a fourth learner matching the filter is awarded: the confirmed 3 is stale.
    award(cast.awarder, version, email="cohort9@example.com", name="Cohort 9")
    stale = _bulk(
        client,
        cast,
        action="revoke",
        scope="all",
        q="Cohort",
        confirm="1",
        expected="3",
        reason="Wrong cohort",
    )
    assert stale.status_code == 409
    assert "changed from 3 to 4" in stale.content.decode()
    assert set(_statuses().values()) == {AwardStatus.ACTIVE}

    done = _bulk(
        client,
        cast,
        action="revoke",
        scope="all",
        q="Cohort",
        confirm="1",
        expected="4",
        reason="Wrong cohort",
    )
    assert done.status_code == 302 and "q=Cohort" in done["Location"]
    statuses = _statuses()
    assert statuses.pop("Someone Else") == AwardStatus.ACTIVE
    assert set(statuses.values()) == {AwardStatus.REVOKED}


def test_suspend_and_reinstate_ticked_rows(
    client: Client, cast: Cast, version: AchievementVersion
) -> None:
    one = award(cast.awarder, version, email="one@example.com", name="One")
    award(cast.awarder, version, email="two@example.com", name="Two")
    client.force_login(cast.editor)

    asked = _bulk(client, cast, action="suspend", scope="selected", selected=[str(one.pk)])
    assert "1 badge will be suspended." in asked.content.decode()
    refused = _bulk(
        client,
        cast,
        action="suspend",
        scope="selected",
        selected=[str(one.pk)],
        confirm="1",
        expected="1",
        reason="",
    )
    assert refused.status_code == 400  # a suspension needs a reason
    _bulk(
        client,
        cast,
        action="suspend",
        scope="selected",
        selected=[str(one.pk)],
        confirm="1",
        expected="1",
        reason="Checking the assessment",
    )
    assert _statuses() == {"One": AwardStatus.SUSPENDED, "Two": AwardStatus.ACTIVE}

    _bulk(
        client,
        cast,
        action="reinstate",
        scope="all",
        state="suspended",
        confirm="1",
        expected="1",
    )
    assert _statuses() == {"One": AwardStatus.ACTIVE, "Two": AwardStatus.ACTIVE}


def test_an_awarder_may_resend_in_bulk_but_not_revoke(
    client: Client, cast: Cast, version: AchievementVersion, django_capture_on_commit_callbacks: Any
) -> None:
    mine = award(cast.awarder, version, email="again@example.com", name="Again")
    client.force_login(cast.awarder)
    assert _bulk(client, cast, action="revoke", scope="all").status_code == 403
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = _bulk(
            client,
            cast,
            action="resend",
            scope="selected",
            selected=[str(mine.pk)],
            confirm="1",
            expected="1",
        )
    assert sent.status_code == 302
    assert [m.to for m in mail.outbox] == [["again@example.com"]]


def test_revoking_one_badge_asks_first_naming_the_learner_and_badge(
    client: Client, cast: Cast, version: AchievementVersion
) -> None:
    badge = award(cast.awarder, version, email="lee@example.com", name="Lee Learner")
    client.force_login(cast.editor)
    url = reverse("manage:award_revoke", args=[cast.institution.slug, badge.pk])
    detail = client.get(reverse("manage:award_detail", args=[cast.institution.slug, badge.pk]))
    assert 'name="step" value="review"' in detail.content.decode()

    asked = client.post(url, {"reason": "Wrong learner", "step": "review"})

    page = asked.content.decode()
    assert asked.status_code == 200
    assert "Revoke this badge?" in page and "Lee Learner" in page and "Data Literacy" in page
    assert Award.objects.get().status == AwardStatus.ACTIVE
    confirmation = page.split("<h1>")[1].split("</form>")[0]
    assert "onclick" not in confirmation and "<script" not in confirmation  # a plain form
    client.post(url, {"reason": "Wrong learner"})
    assert Award.objects.get().status == AwardStatus.REVOKED


def _read(response: Any) -> bytes:
    """A streamed download, whole."""
    return b"".join(response.streaming_content)


FORMULAS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", '=HYPERLINK("http://evil.example")']


@pytest.fixture
def hostile(cast: Cast, version: AchievementVersion) -> list[Award]:
    return [
        award(cast.awarder, version, email=f"f{i}@example.com", name=name)
        for i, name in enumerate(FORMULAS)
    ]


def test_the_csv_export_neutralises_every_formula_cell(
    client: Client, cast: Cast, hostile: list[Award]
) -> None:
    revocation_services.revoke_award(
        actor=cast.editor, award=hostile[0], reason="=cmd|' /C calc'!A0"
    )
    client.force_login(cast.viewer)

    response = client.get(reverse("manage:awards_export_csv", args=[cast.institution.slug]))

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = _read(response).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["Credential id", "Learner"]
    names = sorted(row[1] for row in rows[1:])
    assert names == sorted("'" + name for name in FORMULAS)
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    # Filtered: only what the list shows.
    one = client.get(
        reverse("manage:awards_export_csv", args=[cast.institution.slug]) + "?state=revoked"
    )
    assert len(list(csv.reader(io.StringIO(_read(one).decode())))) == 2


def test_the_xlsx_export_opens_with_text_not_formulas(
    client: Client, cast: Cast, hostile: list[Award]
) -> None:
    client.force_login(cast.viewer)

    response = client.get(reverse("manage:awards_export_xlsx", args=[cast.institution.slug]))

    assert response.status_code == 200
    data = _read(response)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    names = sorted(str(row[1].value) for row in sheet.iter_rows(min_row=2))
    assert names == sorted("'" + name for name in FORMULAS)


def test_an_export_holds_only_what_the_person_may_read(
    client: Client, cast: Cast, version: AchievementVersion
) -> None:
    theirs = make_published(cast.outsider, cast.other_issuer, slug="theirs")
    award(cast.outsider, theirs, email="their@example.com", name="Their Learner")
    award(cast.awarder, version, email="ours@example.com", name="Our Learner")
    client.force_login(cast.viewer)
    response = client.get(reverse("manage:awards_export_csv", args=[cast.institution.slug]))
    text = _read(response).decode("utf-8-sig")
    assert "Our Learner" in text and "Their Learner" not in text
