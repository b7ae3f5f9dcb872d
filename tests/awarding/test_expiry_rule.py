"""One expiry rule for every door: a day typed in the console form, written in a CSV or XLSX
file, or sent to the API means the end of that day in the deployment's time zone. Before,
the form used UTC and the CSV path the local zone, so the same date gave credentials that
expired eight hours apart in a Shanghai deployment."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.test import Client, override_settings
from django.urls import reverse

from awarding.bulk import services as bulk_services
from badges.models import Award
from badges.tokens import services as token_services
from tests.badges.helpers import make_published
from tests.base import CaptureCallbacks, Cast

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = datetime(2031, 6, 30, 23, 59, 59, tzinfo=SHANGHAI)


def _xlsx(email: str) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Email", "Valid until"])
    sheet.append([email, datetime(2031, 6, 30)])  # noqa: DTZ001 - a spreadsheet date
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_the_same_day_from_the_form_a_csv_an_xlsx_and_the_api_expires_at_the_same_moment(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.awarder)
    form = client.post(
        reverse("manage:award_create", args=[cast.institution.slug, version.achievement_id]),
        {"email": "form@example.com", "language": "en", "valid_until": "2031-06-30"},
    )
    assert form.status_code == 302
    for name, data in (
        ("cohort.csv", b"Email,Valid until\ncsv@example.com,2031-06-30\n"),
        ("cohort.xlsx", _xlsx("xlsx@example.com")),
    ):
        batch = bulk_services.create_batch(
            actor=cast.awarder, version=version, file_name=name, data=data
        )
        with django_capture_on_commit_callbacks(execute=True):
            bulk_services.start_batch(actor=cast.awarder, batch=batch)
    _token, key = token_services.create_api_token(actor=cast.owner, issuer=cast.issuer, name="SIS")
    api = client.post(
        reverse("api_award_achievement", args=[version.achievement_id]),
        {"email": "api@example.com", "valid_until": "2031-06-30"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert api.status_code == 201, api.content

    awards = {a.recipient_email: a for a in Award.objects.all()}
    assert sorted(awards) == [
        "api@example.com",
        "csv@example.com",
        "form@example.com",
        "xlsx@example.com",
    ]
    for found in awards.values():
        assert found.valid_until == END_OF_DAY
        # What verifiers read: the end of 30 June in Shanghai, written in UTC.
        assert found.credential["validUntil"] == "2031-06-30T15:59:59Z"


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_an_api_expiry_with_its_own_zone_is_kept_as_given(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    _token, key = token_services.create_api_token(actor=cast.owner, issuer=cast.issuer, name="SIS")
    response = client.post(
        reverse("api_award_achievement", args=[version.achievement_id]),
        {"email": "api@example.com", "valid_until": "2031-06-30T12:00:00+00:00"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 201
    assert Award.objects.get().credential["validUntil"] == "2031-06-30T12:00:00Z"


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_a_past_day_is_refused_by_every_door_with_the_same_words(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.awarder)
    form = client.post(
        reverse("manage:award_create", args=[cast.institution.slug, version.achievement_id]),
        {"email": "form@example.com", "language": "en", "valid_until": "2020-01-01"},
    )
    batch = bulk_services.create_batch(
        actor=cast.awarder,
        version=version,
        file_name="cohort.csv",
        data=b"Email,Valid until\ncsv@example.com,2020-01-01\n",
    )
    _token, key = token_services.create_api_token(actor=cast.owner, issuer=cast.issuer, name="SIS")
    api = client.post(
        reverse("api_award_achievement", args=[version.achievement_id]),
        {"email": "api@example.com", "valid_until": "2020-01-01"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )

    words = "The expiry date must be in the future."
    assert form.status_code == 400 and words in form.content.decode()
    (row,) = batch.rows.all()
    assert row.errors == [{"column": "valid_until", "message": words}]
    assert api.status_code == 400 and words in api.content.decode()
    assert not Award.objects.exists()
