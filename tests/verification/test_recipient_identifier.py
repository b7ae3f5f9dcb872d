"""Checking a badge's recipient by student number or sign-in name on /verify and in
``POST /api/v1/verify`` (issue 15 §4): a match says what matched; the number is never kept."""

from __future__ import annotations

import pytest
from django.test import Client

from badges.models import Award
from tests.badges.helpers import award, make_published
from tests.base import Cast
from verification.models import Receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def to_number(cast: Cast) -> Award:
    return award(
        cast.awarder,
        make_published(cast.owner, cast.issuer),
        email="",
        identifier_type="studentId",
        identifier="20261234",
    )


@pytest.fixture
def to_both(cast: Cast) -> Award:
    return award(
        cast.awarder,
        make_published(cast.owner, cast.issuer, slug="python"),
        email="lee@example.com",
        identifier_type="sourcedId",
        identifier="lee@poly.ac.nz",
    )


def test_the_page_asks_for_an_e_mail_address_or_student_number(client: Client, db: None) -> None:
    page = client.get("/verify").content.decode()
    assert "Recipient's e-mail address or student number (optional)" in page
    assert 'id="verify-email" name="email" type="text"' in page


def test_a_badge_awarded_to_20261234_matches_that_student_number(
    client: Client, to_number: Award
) -> None:
    response = client.post("/verify", {"text": to_number.credential_json, "email": " 20261234 "})
    page = response.content.decode()
    assert 'data-verdict="valid"' in page
    assert "Issued to the student number you entered." in page
    assert "20261234" not in page.replace('value=" 20261234 "', "")


def test_another_number_is_not_this_recipient(client: Client, to_number: Award) -> None:
    response = client.post("/verify", {"text": to_number.credential_json, "email": "20261235"})
    page = response.content.decode()
    assert 'data-verdict="not_recipient"' in page
    assert (
        "Not this recipient: the badge is genuine but was not issued to that student number "
        "or sign-in name." in page
    )
    assert "was not issued to the student number or sign-in name you entered." in page


def test_an_address_still_matches_an_address(client: Client, to_both: Award) -> None:
    response = client.post("/verify", {"text": to_both.credential_json, "email": "Lee@Example.com"})
    page = response.content.decode()
    assert 'data-verdict="valid"' in page
    assert "Issued to the e-mail address you entered." in page


def test_a_sign_in_name_matches_whatever_its_case(client: Client, to_both: Award) -> None:
    response = client.post("/verify", {"text": to_both.credential_json, "email": "LEE@poly.ac.nz"})
    page = response.content.decode()
    assert 'data-verdict="valid"' in page
    assert "Issued to the sign-in name you entered." in page


def test_an_address_against_a_badge_to_a_number_is_not_this_recipient(
    client: Client, to_number: Award
) -> None:
    response = client.post(
        "/verify", {"text": to_number.credential_json, "email": "lee@example.com"}
    )
    page = response.content.decode()
    assert 'data-verdict="not_recipient"' in page
    assert "was not issued to the e-mail address you entered." in page


def test_the_api_names_what_matched_and_the_receipt_keeps_no_number(
    client: Client, to_number: Award
) -> None:
    response = client.post(
        "/api/v1/verify",
        {"credential": to_number.credential, "email": "20261234", "receipt": True},
        content_type="application/json",
    )
    body = response.json()
    assert body["verdict"] == "valid"
    (check,) = [c for c in body["checks"] if c["id"] == "recipient"]
    assert (check["status"], check["code"], check["detail"]) == ("pass", "match", "studentId")
    assert check["message"] == "Issued to the student number you entered."
    assert "20261234" not in str(Receipt.objects.get().document)

    wrong = client.post(
        "/api/v1/verify",
        {"credential": to_number.credential, "email": "1"},
        content_type="application/json",
    ).json()
    assert wrong["verdict"] == "not_recipient"
    assert wrong["headline"].endswith("not issued to that student number or sign-in name.")


def test_the_ob2_assertion_of_a_badge_to_a_number_is_checked_too(
    client: Client, to_number: Award
) -> None:
    assertion = client.get(f"/ob2/assertions/{to_number.pk}").content.decode()
    response = client.post("/verify", {"text": assertion, "email": "20261234"})
    page = response.content.decode()
    assert "Issued to the student number you entered." in page
