"""Endorsing an issuer or achievement elsewhere by its address: fetched with the safe
fetcher; internal addresses, this platform's own and documents that are no OB 3.0 issuer
profile or achievement are refused with a reason, and nothing is signed."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from endorsements.models import Endorsement, SubjectKind
from openbadges import ob3
from tests.base import Cast
from tests.verification.conftest import allow
from tests.verification.servers import FakeWeb, Route

pytestmark = pytest.mark.django_db

PROFILE = {
    "@context": list(ob3.CREDENTIAL_CONTEXT),
    "id": "https://badges.example.org/issuers/42",
    "type": ["Profile"],
    "name": "Example Academy",
}


def _post(client: Client, cast: Cast, url: str) -> str:
    client.force_login(cast.outsider)
    response = client.post(
        reverse("manage:endorsement_new", args=[cast.other_institution.slug]),
        {"endorser": cast.other_issuer.pk, "url": url, "comment": "Good"},
    )
    assert response.status_code in (302, 400)
    return response.content.decode() if response.status_code == 400 else ""


def test_an_issuer_elsewhere_is_endorsed_by_its_address(
    cast: Cast, client: Client, web: FakeWeb, settings: SettingsWrapper
) -> None:
    allow(settings, web, "badges.example.org")
    web.json("http://badges.example.org/issuers/42", PROFILE)

    assert _post(client, cast, "http://badges.example.org/issuers/42") == ""

    endorsement = Endorsement.objects.get()
    assert endorsement.kind == SubjectKind.ISSUER
    assert endorsement.subject_name == "Example Academy"
    assert endorsement.credential["credentialSubject"]["id"] == PROFILE["id"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/issuers/1",
        "http://10.1.2.3/issuer.json",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/issuer",
        "http://[::1]/issuer",
    ],
)
def test_internal_addresses_are_refused(cast: Cast, client: Client, web: FakeWeb, url: str) -> None:
    page = _post(client, cast, url)

    assert "internal or reserved" in page
    assert not Endorsement.objects.exists()
    assert web.requests == []


@pytest.mark.parametrize(
    ("route", "why"),
    [
        (Route(200, b'{"name": "not a badge"}'), "does not serve an Open Badges 3.0"),
        (
            Route(200, b"<html><body>Hello</body></html>", content_type="text/html"),
            "does not serve an Open Badges 3.0",
        ),
        (Route(404, b""), "HTTP 404"),
    ],
)
def test_documents_that_are_no_issuer_or_achievement_are_refused(
    cast: Cast,
    client: Client,
    web: FakeWeb,
    settings: SettingsWrapper,
    route: Route,
    why: str,
) -> None:
    allow(settings, web, "elsewhere.example.org")
    web.add("http://elsewhere.example.org/thing", route)

    page = _post(client, cast, "http://elsewhere.example.org/thing")

    assert why in page
    assert not Endorsement.objects.exists()


def test_a_credential_is_not_an_endorsable_document(
    cast: Cast, client: Client, web: FakeWeb, settings: SettingsWrapper
) -> None:
    allow(settings, web, "elsewhere.example.org")
    web.json(
        "http://elsewhere.example.org/cred",
        {**PROFILE, "type": ["VerifiableCredential", "OpenBadgeCredential"]},
    )
    assert "does not serve an Open Badges 3.0" in _post(
        client, cast, "http://elsewhere.example.org/cred"
    )


def test_this_platforms_own_address_goes_through_the_search(
    cast: Cast, client: Client, settings: SettingsWrapper
) -> None:
    own = settings.INSIGNIA_BASE_URL + reverse("issuer_profile", args=[cast.issuer.slug])
    page = _post(client, cast, own)
    assert "choose it from the search" in page
    assert not Endorsement.objects.exists()


def test_an_unusable_id_is_refused_and_control_characters_leave_the_name(
    cast: Cast, client: Client, web: FakeWeb, settings: SettingsWrapper
) -> None:
    allow(settings, web, "badges.example.org")
    web.json("http://badges.example.org/bad-id", {**PROFILE, "id": "not an iri"})
    web.json("http://badges.example.org/odd-name", {**PROFILE, "name": "Odd\x01 Academy\x7f"})

    assert "does not serve an Open Badges 3.0" in _post(
        client, cast, "http://badges.example.org/bad-id"
    )
    assert _post(client, cast, "http://badges.example.org/odd-name") == ""
    assert Endorsement.objects.get().subject_name == "Odd Academy\x7f"
