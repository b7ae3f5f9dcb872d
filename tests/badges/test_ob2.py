"""Open Badges 2.0 hosted objects for legacy backpacks (research §5, §4.2): an Assertion that
a validator can follow to its BadgeClass and Issuer on the same origin, HTTP 410 once revoked,
and a PNG with the assertion baked in."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client, override_settings

from awarding.revocation import services as revocation_services
from badges.models import Award
from openbadges import baking
from tests.badges.helpers import award, make_published
from tests.base import Cast, png_bytes

pytestmark = pytest.mark.django_db

BASE = "https://badges.poly.example"


def fetch(client: Client, url: str, status: int = 200) -> dict[str, Any]:
    """GET an absolute URL on our origin the way validator-core does (Accept: JSON-LD)."""
    assert url.startswith(BASE + "/"), url
    response = client.get(
        urlsplit(url).path,
        HTTP_ACCEPT="application/ld+json, application/json, image/png, image/svg+xml",
    )
    assert response.status_code == status, (url, response.status_code)
    assert response["Content-Type"].startswith("application/ld+json")
    document: dict[str, Any] = json.loads(response.content)
    return document


@pytest.fixture
def issued(cast: Cast) -> Award:
    with override_settings(INSIGNIA_BASE_URL=BASE):
        version = make_published(cast.editor, cast.issuer, image=png_bytes(90, 90))
        return award(cast.awarder, version, narrative="Built a dashboard.")


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_a_hosted_assertion_links_to_its_badge_class_and_issuer(
    client: Client, issued: Award
) -> None:
    assertion = fetch(client, f"{BASE}/ob2/assertions/{issued.pk}")
    badge = fetch(client, assertion["badge"])
    issuer = fetch(client, badge["issuer"])

    assert assertion["@context"] == "https://w3id.org/openbadges/v2"
    assert assertion["type"] == "Assertion"
    assert assertion["id"] == f"{BASE}/ob2/assertions/{issued.pk}"
    assert assertion["verification"] == {"type": "hosted"}
    assert assertion["issuedOn"].endswith("Z")
    assert assertion["narrative"] == "Built a dashboard."
    assert badge["type"] == "BadgeClass"
    assert badge["name"] == "Data Literacy"
    assert badge["criteria"]["narrative"].startswith("Pass the **final assessment**")
    assert issuer["type"] == "Issuer"
    assert (issuer["name"], issuer["url"], issuer["email"]) == (
        "Poly Engineering",
        "https://poly-engineering.example/",
        "badges@poly-engineering.example",
    )
    # validator-core's default allowedOrigins: the assertion is on the issuer id's host.
    assert urlsplit(assertion["id"]).netloc == urlsplit(issuer["id"]).netloc


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_the_recipient_hash_matches_the_learners_email_and_hides_it(
    client: Client, issued: Award
) -> None:
    response = client.get(f"/ob2/assertions/{issued.pk}")
    recipient = json.loads(response.content)["recipient"]

    assert recipient["type"] == "email" and recipient["hashed"] is True
    expected = hashlib.sha256(("learner@example.com" + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] == "sha256$" + expected
    assert b"learner@example.com" not in response.content.lower()


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_badge_and_assertion_images_are_png_or_svg(client: Client, issued: Award) -> None:
    assertion = fetch(client, f"{BASE}/ob2/assertions/{issued.pk}")
    badge = fetch(client, assertion["badge"])

    image = client.get(urlsplit(badge["image"]).path, follow=True)
    assert image["Content-Type"] == "image/png"
    baked = client.get(urlsplit(assertion["image"]).path)
    assert baked["Content-Type"] == "image/png"


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_the_ob2_baked_png_carries_the_hosted_assertion(client: Client, issued: Award) -> None:
    found = baking.extract(client.get(f"/ob2/assertions/{issued.pk}.png").content)

    assert found is not None
    assert found.version == "ob2"
    hosted = json.loads(client.get(f"/ob2/assertions/{issued.pk}").content)
    assert found.json() == hosted


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_a_revoked_assertion_is_gone_with_its_reason(
    client: Client, cast: Cast, issued: Award
) -> None:
    revocation_services.revoke_award(actor=cast.editor, award=issued, reason="Awarded in error")

    body = fetch(client, f"{BASE}/ob2/assertions/{issued.pk}", status=410)

    assert body["revoked"] is True
    assert body["revocationReason"] == "Awarded in error"
    assert body["id"] == f"{BASE}/ob2/assertions/{issued.pk}"


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_the_latest_badge_class_and_each_version_have_stable_urls(
    client: Client, issued: Award
) -> None:
    achievement_id = issued.achievement_version.achievement_id

    latest = fetch(client, f"{BASE}/ob2/badges/{achievement_id}")
    pinned = fetch(client, f"{BASE}/ob2/badges/{achievement_id}/v/1")

    assert latest == pinned
    assert pinned["id"] == f"{BASE}/ob2/badges/{achievement_id}/v/1"


def test_unknown_objects_are_not_found(client: Client) -> None:
    assert client.get("/ob2/assertions/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/ob2/issuers/nobody").status_code == 404
