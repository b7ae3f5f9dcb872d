"""The tool's signing keys: one active key per institution, published in its keyset, rotated
ahead of use so a platform caching the keyset never meets an unknown signature."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.test import Client, override_settings
from django.utils import timezone

from lti import keys
from lti.models import KeyState, ToolKey
from tests.base import make_cast

pytestmark = pytest.mark.django_db


def test_the_keyset_lists_the_key_deep_linking_responses_are_signed_with(client: Client) -> None:
    cast = make_cast()
    key = keys.active_key(cast.institution)

    served = client.get(f"/lti/{cast.institution.slug}/jwks.json").json()

    assert [k["kid"] for k in served["keys"]] == [key.kid]
    jwk = served["keys"][0]
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    assert "d" not in jwk  # never the private half
    token = jwt.encode({"x": 1}, key.private_key_pem, algorithm="RS256", headers={"kid": key.kid})
    public = jwt.PyJWK(jwk).key
    assert jwt.decode(token, public, algorithms=["RS256"]) == {"x": 1}


def test_the_keyset_is_served_without_the_key_encryption_key_and_a_first_key_waits(
    client: Client,
) -> None:
    """Only public halves are read, so a lost key-encryption key does not take the keyset down
    (S-28 drill); making a first key needs it, and the answer says so instead of a 500."""
    cast = make_cast()
    key = keys.active_key(cast.institution)

    with override_settings(INSIGNIA_KEY_ENCRYPTION_KEY=""):
        served = client.get(f"/lti/{cast.institution.slug}/jwks.json")
        first = client.get(f"/lti/{cast.other_institution.slug}/jwks.json")

    assert served.status_code == 200
    assert [k["kid"] for k in served.json()["keys"]] == [key.kid]
    assert first.status_code == 503
    assert first["Retry-After"] == "60"
    assert not ToolKey.objects.filter(institution=cast.other_institution).exists()


def test_each_institution_signs_with_its_own_key() -> None:
    cast = make_cast()
    mine = keys.active_key(cast.institution)
    theirs = keys.active_key(cast.other_institution)

    assert mine.kid != theirs.kid
    assert keys.keyset(cast.institution)["keys"][0]["kid"] == mine.kid
    assert theirs.kid not in {k["kid"] for k in keys.keyset(cast.institution)["keys"]}


def test_rotation_publishes_the_successor_first_then_switches_and_keeps_the_old_listed() -> None:
    cast = make_cast()
    first = keys.active_key(cast.institution)
    now = timezone.now()

    assert keys.rotate(cast.institution, now=now) == "current"
    later = now + keys.KEY_LIFETIME + timedelta(days=1)
    assert keys.rotate(cast.institution, now=later) == "published"
    successor = ToolKey.objects.get(institution=cast.institution, state=KeyState.NEXT)
    listed = {k["kid"] for k in keys.keyset(cast.institution)["keys"]}
    assert listed == {first.kid, successor.kid}
    assert keys.active_key(cast.institution).kid == first.kid  # still signing with the old one

    ToolKey.objects.filter(pk=successor.pk).update(created_at=later - keys.PUBLISH_AHEAD)
    assert keys.rotate(cast.institution, now=later) == "switched"
    assert keys.active_key(cast.institution).kid == successor.kid
    assert {k["kid"] for k in keys.keyset(cast.institution)["keys"]} == {first.kid, successor.kid}

    ToolKey.objects.filter(pk=first.pk).update(
        retired_at=timezone.now() - keys.RETIRED_LISTED - timedelta(minutes=1)
    )
    assert {k["kid"] for k in keys.keyset(cast.institution)["keys"]} == {successor.kid}


def test_the_private_key_is_sealed_in_the_database() -> None:
    cast = make_cast()
    key = keys.active_key(cast.institution)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key_pem FROM lti_toolkey WHERE id = %s", [key.pk])
        (stored,) = cursor.fetchone()
    assert "PRIVATE KEY" not in stored
    assert ToolKey.objects.get(pk=key.pk).private_key_pem.startswith("-----BEGIN PRIVATE KEY")
