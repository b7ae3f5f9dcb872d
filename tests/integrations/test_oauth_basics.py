"""The authorisation server's basics: a client-credentials token limited to one issuer awards
that issuer's badges and nothing else; tokens are stored only as hashes; a revoked client's
token stops working at once."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application

from integrations.oauth import services
from tests.badges.helpers import make_published
from tests.base import Cast, make_issuer

pytestmark = pytest.mark.django_db


def _token(client_id: str, secret: str, scope: str) -> tuple[int, dict[str, object]]:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    return response.status_code, response.json()


def test_a_client_credentials_token_awards_only_its_issuer(cast: Cast) -> None:
    sibling = make_issuer(cast.institution, "poly-business", cast.owner)
    ours = make_published(cast.owner, cast.issuer)
    theirs = make_published(cast.owner, sibling, slug="marketing")
    client, secret = services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="Student records",
        grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        scopes=["awards:read", "awards:write"],
        issuers=[cast.issuer],
    )
    status, body = _token(client.application.client_id, secret, "awards:write")
    assert status == 200, body
    key = str(body["access_token"])
    stored = AccessToken.objects.get()
    assert stored.token == ""  # only the SHA-256 is kept
    assert stored.token_checksum == hashlib.sha256(key.encode()).hexdigest()
    assert not Application.objects.filter(client_secret=secret).exists()

    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    made = api.post(
        f"/api/v1/achievements/{ours.achievement_id}/awards",
        {"email": "ana@example.com", "name": "Ana"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    refused = api.post(
        f"/api/v1/achievements/{theirs.achievement_id}/awards",
        {"email": "ana@example.com", "name": "Ana"},
        content_type="application/json",
    )
    assert refused.status_code == 404

    # A scope the owner never granted, or an issuer outside the client, is refused.
    assert _token(client.application.client_id, secret, "awards:revoke")[0] == 400
    assert _token(client.application.client_id, secret, "issuer:poly-business")[0] == 400
    assert _token(client.application.client_id, "wrong", "awards:write")[0] == 401

    services.revoke_client(actor=cast.owner, client=client)
    after = api.post(
        f"/api/v1/achievements/{ours.achievement_id}/awards",
        {"email": "bo@example.com", "name": "Bo"},
        content_type="application/json",
    )
    assert after.status_code == 401
    assert _token(client.application.client_id, secret, "awards:write")[0] == 401


def test_an_issuer_scope_narrows_a_token_of_a_client_for_the_whole_institution(
    cast: Cast,
) -> None:
    sibling = make_issuer(cast.institution, "poly-business", cast.owner)
    theirs = make_published(cast.owner, sibling, slug="marketing")
    client, secret = services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="LMS",
        grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        scopes=["awards:write"],
    )
    status, body = _token(
        client.application.client_id, secret, f"awards:write issuer:{cast.issuer.slug}"
    )
    assert status == 200, body
    api = Client(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    refused = api.post(
        f"/api/v1/achievements/{theirs.achievement_id}/awards",
        {"email": "ana@example.com"},
        content_type="application/json",
    )
    assert refused.status_code == 404
    # Another institution's issuer cannot even be named.
    assert _token(client.application.client_id, secret, "issuer:rival-arts")[0] == 400


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_introspection_and_revocation_answer_only_for_the_clients_own_tokens(
    cast: Cast,
) -> None:
    ours, our_secret = services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="Student records",
        grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        scopes=["awards:read"],
    )
    theirs, their_secret = services.register_client(
        actor=cast.outsider,
        institution=cast.other_institution,
        name="Rival LMS",
        grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        scopes=["awards:read"],
    )
    our_id, their_id = ours.application.client_id, theirs.application.client_id
    key = str(_token(our_id, our_secret, "awards:read")[1]["access_token"])
    web = Client()

    mine = web.post(
        "/oauth/introspect/", {"token": key}, HTTP_AUTHORIZATION=_basic(our_id, our_secret)
    )
    assert mine.json()["active"] is True
    assert mine.json()["scope"] == "awards:read"
    # Another institution's client learns nothing about it, and cannot revoke it.
    snooped = web.post(
        "/oauth/introspect/", {"token": key}, HTTP_AUTHORIZATION=_basic(their_id, their_secret)
    )
    assert snooped.json() == {"active": False}
    web.post("/oauth/revoke/", {"token": key}, HTTP_AUTHORIZATION=_basic(their_id, their_secret))
    still = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/awards")
    assert still.status_code == 200

    # Its own client revokes it (RFC 7009): from then on it is refused and inactive.
    gone = web.post("/oauth/revoke/", {"token": key}, HTTP_AUTHORIZATION=_basic(our_id, our_secret))
    assert gone.status_code == 200
    assert Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/awards").status_code == 401
    after = web.post(
        "/oauth/introspect/", {"token": key}, HTTP_AUTHORIZATION=_basic(our_id, our_secret)
    )
    assert after.json() == {"active": False}
