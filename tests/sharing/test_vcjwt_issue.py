"""The credential as a VC-JWT at ``/credentials/<id>.jwt`` and by ``Accept``: the same
credential as the JSON, signed by the issuer's did:web key, verifiable by PyJWT with the key
the issuer's served DID document names, served like the JSON (ETag, caching, privacy)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import jwt
import pytest
from django.test import Client

from awarding.revocation import services as revocation_services
from badges.models import Award
from earners.models import AwardPreference, Visibility
from issuers import services as issuer_services
from issuers.models import Issuer, Securing
from openbadges import vcjwt
from tests.badges.helpers import award, make_published, served_did_document
from tests.base import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def lee(cast: Cast) -> Award:
    version = make_published(cast.editor, cast.issuer)
    return award(cast.awarder, version, email="lee@example.com", name="Lee Learner")


def _jose_decode(client: Client, token: str, *, issuer: str) -> dict[str, Any]:
    """What an independent JOSE relying party does: typ and alg from an allowlist, the key
    by ``kid`` from the issuer's DID document (listed for assertions, controlled by the
    issuer), signature, ``iss``, ``nbf``, and no audience it was not told to expect."""
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": header["kid"], "typ": "vc+jwt"}
    did = header["kid"].partition("#")[0]
    assert did == issuer
    document = served_did_document(client, did)
    method = next(m for m in document["verificationMethod"] if m["id"] == header["kid"])
    assert method["controller"] == did and header["kid"] in document["assertionMethod"]
    key = jwt.PyJWK(method["publicKeyJwk"], algorithm="EdDSA")
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["EdDSA"],
        issuer=did,
        options={"require": ["iss", "jti", "nbf"], "verify_aud": True},
    )
    return claims


def test_the_jwt_url_serves_the_stored_credential_as_a_vc_jwt(lee: Award) -> None:
    client = Client()
    response = client.get(f"/credentials/{lee.pk}.jwt")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    assert response["Access-Control-Allow-Origin"] == "*"
    stored = json.loads(lee.credential_json)
    claims = _jose_decode(client, response.content.decode(), issuer=stored["issuer"]["id"])
    without_proof = {k: v for k, v in stored.items() if k != "proof"}
    assert {k: v for k, v in claims.items() if k not in vcjwt.JWT_CLAIMS} == without_proof
    assert claims["jti"] == stored["id"]
    # the stored award is unchanged: still the Data Integrity credential
    lee.refresh_from_db()
    assert json.loads(lee.credential_json)["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"


def test_our_verifier_reads_the_served_token_with_the_same_key_as_the_did_document(
    lee: Award,
) -> None:
    token = Client().get(f"/credentials/{lee.pk}.jwt").content.decode()
    decoded = vcjwt.decode(token)
    assert decoded.header["kid"] == decoded.credential["issuer"]["id"] + "#key-1-jwk"


@pytest.mark.parametrize(
    "accept", ["application/vc+jwt", "application/jwt", "application/vc+jwt, text/html;q=0.5"]
)
def test_accept_vc_jwt_on_the_credential_url_gets_the_token(lee: Award, accept: str) -> None:
    response = Client().get(f"/credentials/{lee.pk}", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    assert "Accept" in response["Vary"].split(", ")
    assert response["Cache-Control"] == "public, no-cache"  # negotiated: revalidate
    assert response.content == Client().get(f"/credentials/{lee.pk}.jwt").content


def test_json_and_html_are_still_what_they_were(lee: Award) -> None:
    client = Client()
    as_json = client.get(f"/credentials/{lee.pk}", HTTP_ACCEPT="application/ld+json")
    assert as_json["Content-Type"].startswith("application/ld+json")
    assert as_json.content == lee.credential_json.encode()
    page = client.get(f"/credentials/{lee.pk}", HTTP_ACCEPT="text/html,application/vc+jwt;q=0.9")
    assert page["Content-Type"].startswith("text/html")


def test_a_client_taking_either_gets_the_issuers_choice(cast: Cast, lee: Award) -> None:
    either = "application/vc+ld+json, application/vc+jwt"
    client = Client()
    assert client.get(f"/credentials/{lee.pk}", HTTP_ACCEPT=either).content == (
        lee.credential_json.encode()
    )
    Issuer.objects.filter(pk=cast.issuer.pk).update(securing=Securing.VC_JWT)
    response = client.get(f"/credentials/{lee.pk}", HTTP_ACCEPT=either)
    assert response["Content-Type"] == "application/vc+jwt"
    # a client that names one type still gets that type
    only_json = client.get(f"/credentials/{lee.pk}", HTTP_ACCEPT="application/json")
    assert only_json.content == lee.credential_json.encode()


def test_the_token_revalidates_with_its_etag_and_is_cached(lee: Award) -> None:
    client = Client()
    first = client.get(f"/credentials/{lee.pk}.jwt")
    assert first["Cache-Control"] == "public, max-age=3600"
    etag = first["ETag"]
    again = client.get(f"/credentials/{lee.pk}.jwt", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag
    assert client.get(f"/credentials/{lee.pk}.jwt").content == first.content


def test_a_rotated_key_signs_new_tokens_and_the_old_ones_still_verify(
    cast: Cast, lee: Award
) -> None:
    client = Client()
    issuer_id = json.loads(lee.credential_json)["issuer"]["id"]
    before = client.get(f"/credentials/{lee.pk}.jwt").content.decode()
    issuer_services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)
    after = client.get(f"/credentials/{lee.pk}.jwt").content.decode()

    assert jwt.get_unverified_header(after)["kid"] == issuer_id + "#key-2-jwk"
    assert (
        _jose_decode(client, before, issuer=issuer_id)["jti"]
        == (_jose_decode(client, after, issuer=issuer_id)["jti"])
    )


def test_a_revoked_badge_still_serves_its_token_for_verifiers(lee: Award) -> None:
    revocation_services.revoke_award(actor=None, award=lee, reason="Plagiarism")
    assert Client().get(f"/credentials/{lee.pk}.jwt").status_code == 200


def test_the_token_follows_the_json_privacy_rules(cast: Cast, lee: Award) -> None:
    """Both forms are served to whoever holds the link, whatever the learner chose (the
    link is the capability); neither exists for a guessed id, and the token says no more
    than the JSON: no name, no plain e-mail address."""
    AwardPreference.objects.create(award=lee, visibility=Visibility.LINK, show_name=False)
    client = Client()
    token = client.get(f"/credentials/{lee.pk}.jwt")
    as_json = client.get(f"/credentials/{lee.pk}.json")
    assert token.status_code == as_json.status_code == 200
    payload = vcjwt.decode(token.content.decode()).payload
    assert "lee@example.com" not in json.dumps(payload)
    assert "Lee Learner" not in json.dumps(payload)
    unknown = uuid.uuid4()
    assert client.get(f"/credentials/{unknown}.jwt").status_code == 404
    assert client.get(f"/credentials/{unknown}.json").status_code == 404
    assert (
        client.get(f"/credentials/{unknown}", HTTP_ACCEPT="application/vc+jwt").status_code == 404
    )


def test_without_a_usable_key_the_token_is_refused_clearly_and_the_json_still_served(
    cast: Cast, lee: Award
) -> None:
    issuer_services.withdraw_signing_key(actor=cast.owner, key=lee.signing_key)
    client = Client()
    response = client.get(f"/credentials/{lee.pk}.jwt")
    assert response.status_code == 503
    assert f"/credentials/{lee.pk}.json" in response.content.decode()
    assert client.get(f"/credentials/{lee.pk}.json").status_code == 200


def _downloads(client: Client, found: Award) -> list[str]:
    html = client.get(f"/credentials/{found.pk}").content.decode()
    return re.findall(r'href="(/credentials/[^"]+)" download=', html)


def test_the_badge_page_offers_the_format_the_issuer_chose(
    client: Client, cast: Cast, lee: Award
) -> None:
    assert f"/credentials/{lee.pk}.json" in _downloads(client, lee)
    client.force_login(cast.owner)
    response = client.post(
        f"/manage/{cast.issuer.institution.slug}/issuers/{cast.issuer.slug}/edit/",
        {
            "name_en": cast.issuer.name_en,
            "url": cast.issuer.url,
            "email": cast.issuer.email,
            "securing": "vc-jwt",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Issuer.objects.get(pk=cast.issuer.pk).securing == Securing.VC_JWT
    anonymous = Client()
    downloads = _downloads(anonymous, lee)
    assert f"/credentials/{lee.pk}.jwt" in downloads
    assert f"/credentials/{lee.pk}.json" not in downloads
    assert anonymous.get(downloads[-1]).status_code == 200


def test_the_issuer_form_refuses_an_unknown_format_and_changes_nothing(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.owner)
    response = client.post(
        f"/manage/{cast.issuer.institution.slug}/issuers/{cast.issuer.slug}/edit/",
        {
            "name_en": "Renamed",
            "url": cast.issuer.url,
            "email": cast.issuer.email,
            "securing": "hs256-please",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    found = Issuer.objects.get(pk=cast.issuer.pk)
    assert (found.securing, found.name_en) == (Securing.DATA_INTEGRITY, cast.issuer.name_en)


def test_an_edit_posted_without_the_format_keeps_the_issuers_choice(
    client: Client, cast: Cast
) -> None:
    Issuer.objects.filter(pk=cast.issuer.pk).update(securing=Securing.VC_JWT)
    client.force_login(cast.owner)
    response = client.post(
        f"/manage/{cast.issuer.institution.slug}/issuers/{cast.issuer.slug}/edit/",
        {"name_en": "Renamed", "url": cast.issuer.url, "email": cast.issuer.email},
    )
    assert response.status_code == 302
    found = Issuer.objects.get(pk=cast.issuer.pk)
    assert (found.name_en, found.securing) == ("Renamed", Securing.VC_JWT)
