"""The revocation API: owners and editors only, 404 across institutions, 401 without a
credential, in the OpenAPI schema."""

from __future__ import annotations

import secrets

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from badges.models import AwardStatus
from integrations.auth import staff_token_hash
from integrations.models import StaffToken
from tests.badges.helpers import award, make_published
from tests.base import Cast

pytestmark = pytest.mark.django_db


def staff_key(user: User) -> str:
    """A new staff token of ``user``: only its SHA-256 is stored."""
    key = secrets.token_urlsafe(30)
    StaffToken.objects.create(user=user, name="tests", key_hash=staff_token_hash(key))
    return key


def test_an_editor_revokes_through_the_api_with_a_token(cast: Cast) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {staff_key(cast.editor)}")

    response = api.post(
        f"/api/v1/awards/{badge.pk}/revoke", {"reason": "Awarded in error"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "revoked"
    assert response.json()["reason"] == "Awarded in error"
    assert response.json()["id"] == str(badge.pk)
    assert response.json()["credential"] == badge.credential["id"]
    badge.refresh_from_db()
    assert badge.status == AwardStatus.REVOKED
    again = api.post(f"/api/v1/awards/{badge.pk}/revoke", {"reason": "x"}, format="json")
    assert again.status_code == 400


def test_suspend_and_reinstate_through_the_api(cast: Cast) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
    api = APIClient()
    api.force_authenticate(cast.owner)

    suspended = api.post(f"/api/v1/awards/{badge.pk}/suspend", {"reason": "Review"}, format="json")
    state = api.get(f"/api/v1/awards/{badge.pk}")
    reinstated = api.post(f"/api/v1/awards/{badge.pk}/reinstate", {}, format="json")

    assert suspended.json()["state"] == "suspended"
    assert state.json()["state"] == "suspended"
    assert [e["statusPurpose"] for e in state.json()["credential_status"]] == [
        "revocation",
        "suspension",
    ]
    assert reinstated.json()["state"] == "issued"


def test_an_awarder_is_refused_and_an_outsider_sees_nothing(cast: Cast) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
    api = APIClient()

    api.force_authenticate(cast.awarder)
    assert api.post(f"/api/v1/awards/{badge.pk}/revoke", {"reason": "x"}).status_code == 403
    api.force_authenticate(cast.outsider)
    assert api.post(f"/api/v1/awards/{badge.pk}/revoke", {"reason": "x"}).status_code == 404
    assert api.get(f"/api/v1/awards/{badge.pk}").status_code == 404
    bulk = api.post(
        f"/api/v1/institutions/{cast.institution.slug}/awards/revoke",
        {"credentials": [str(badge.pk)], "reason": "x"},
        format="json",
    )
    assert bulk.status_code == 404
    api.force_authenticate(None)
    anonymous = api.post(f"/api/v1/awards/{badge.pk}/revoke", {"reason": "x"}, format="json")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    badge.refresh_from_db()
    assert badge.status == AwardStatus.ACTIVE


def test_bulk_revoke_through_the_api(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    badges = [award(cast.awarder, version, email=f"b{n}@example.com") for n in range(3)]
    api = APIClient()
    api.force_authenticate(cast.editor)

    response = api.post(
        f"/api/v1/institutions/{cast.institution.slug}/awards/revoke",
        {"credentials": [b.credential["id"] for b in badges[:2]], "reason": "Cohort cancelled"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert (response.json()["revoked"], response.json()["already_revoked"]) == (2, 0)
    for badge in badges:
        badge.refresh_from_db()
    assert [b.status for b in badges] == [
        AwardStatus.REVOKED,
        AwardStatus.REVOKED,
        AwardStatus.ACTIVE,
    ]


def test_the_operations_are_in_the_openapi_schema(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    paths = schema["paths"]
    for path in (
        "/api/v1/awards/{award_id}/revoke",
        "/api/v1/awards/{award_id}/suspend",
        "/api/v1/awards/{award_id}/reinstate",
        "/api/v1/institutions/{institution}/awards/revoke",
    ):
        assert "post" in paths[path], path
