"""Our verifier on the VC-JWTs this platform serves (``/credentials/<id>.jwt``): by link and
pasted, valid, revoked, tampered, with another kid, with ``alg`` none or HS256; and a VC-JWT
whose key is a ``JsonWebKey`` method of a did:web document fetched over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from pytest_django.fixtures import Settings

from awarding.revocation import services as revocation_services
from badges.models import Award
from issuers import services as issuer_services
from openbadges import didweb, vcjwt
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.verification import helpers
from tests.verification.conftest import Tripwire, allow
from tests.verification.servers import FakeWeb
from verification import pipeline
from verification.report import Report, Status, Verdict

pytestmark = pytest.mark.django_db


@pytest.fixture
def lee(cast: Cast) -> Award:
    version = make_published(cast.editor, cast.issuer)
    return award(cast.awarder, version, email="lee@example.com")


def _token(found: Award) -> str:
    response = Client().get(f"/credentials/{found.pk}.jwt")
    assert response.status_code == 200
    return response.content.decode()


def _jwt_url(found: Award) -> str:
    return str(found.credential["id"]) + ".jwt"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    decoded = vcjwt.decode(token)
    return decoded.header, decoded.payload, token.split(".")[2]


def _assemble(header: dict[str, Any], payload: dict[str, Any], signature: str) -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(payload).encode())
    return f"{head}.{body}.{signature}"


def _status(report: Report, check: str) -> Status | None:
    found = report.check(check)
    return found.status if found is not None else None


def test_our_jwt_link_verifies_as_a_valid_vc_jwt_without_any_http(
    lee: Award, tripwire: Tripwire
) -> None:
    report = pipeline.verify(pipeline.VerifyRequest(url=_jwt_url(lee)))

    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.format == "vc-jwt"
    key = report.check("issuer_key")
    assert key is not None and key.status is Status.PASS
    assert key.detail.endswith("#key-1-jwk")
    assert report.own is not None  # recognised as this platform's award
    assert tripwire.connections == []


def test_a_pasted_token_verifies_as_valid(lee: Award) -> None:
    report = pipeline.verify(pipeline.VerifyRequest(text=_token(lee)))
    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.claims["issuer"]["name"]


def test_the_verify_page_and_api_take_the_jwt_link(client: Client, lee: Award) -> None:
    page = client.get("/verify", {"url": _jwt_url(lee)})
    assert page.status_code == 200
    assert 'data-verdict="valid"' in page.content.decode()
    answer = client.post(
        "/api/v1/verify", json.dumps({"url": _jwt_url(lee)}), content_type="application/json"
    )
    assert answer.status_code == 200, answer.content[:500]
    assert answer.json()["verdict"] == "valid"


def test_a_revoked_awards_token_is_reported_revoked_by_link_and_pasted(lee: Award) -> None:
    token = _token(lee)  # taken before the revocation: the status lives outside the token
    revocation_services.revoke_award(actor=None, award=lee, reason="Plagiarism")

    for request in (
        pipeline.VerifyRequest(url=_jwt_url(lee)),
        pipeline.VerifyRequest(text=token),
    ):
        report = pipeline.verify(request)
        assert report.verdict is Verdict.REVOKED, report.as_json()
        assert _status(report, "proof") is Status.PASS
        assert _status(report, "status") is Status.FAIL


def test_a_changed_payload_is_reported_tampered(lee: Award) -> None:
    header, payload, signature = _parts(_token(lee))
    payload["credentialSubject"]["achievement"]["name"] = "Welding Level 5"
    report = pipeline.verify(pipeline.VerifyRequest(text=_assemble(header, payload, signature)))
    assert report.verdict is Verdict.TAMPERED, report.as_json()
    assert _status(report, "proof") is Status.FAIL


def test_a_kid_naming_another_issuers_key_is_refused(cast: Cast, lee: Award) -> None:
    other = award(cast.outsider, make_published(cast.outsider, cast.other_issuer, "other"))
    other_kid = vcjwt.decode(_token(other)).header["kid"]
    header, payload, signature = _parts(_token(lee))
    report = pipeline.verify(
        pipeline.VerifyRequest(text=_assemble({**header, "kid": other_kid}, payload, signature))
    )
    assert report.verdict is not Verdict.VALID
    assert _status(report, "issuer_key") is Status.FAIL


def test_a_kid_naming_a_key_the_issuer_does_not_have_is_refused(lee: Award) -> None:
    header, payload, signature = _parts(_token(lee))
    kid = header["kid"].replace("#key-1-jwk", "#key-9-jwk")
    report = pipeline.verify(
        pipeline.VerifyRequest(text=_assemble({**header, "kid": kid}, payload, signature))
    )
    assert report.verdict is not Verdict.VALID
    assert _status(report, "issuer_key") is Status.FAIL


def test_a_token_signed_by_another_key_under_our_kid_is_tampered(lee: Award) -> None:
    header, payload, _signature = _parts(_token(lee))
    forged = vcjwt.sign_credential(
        vcjwt.credential_of(payload), private_key=Ed25519PrivateKey.generate(), kid=header["kid"]
    )
    report = pipeline.verify(pipeline.VerifyRequest(text=forged))
    assert report.verdict is Verdict.TAMPERED, report.as_json()


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_alg_none_and_hs256_are_refused(lee: Award, alg: str) -> None:
    header, payload, _signature = _parts(_token(lee))
    unsigned = _assemble({**header, "alg": alg}, payload, "")
    head, body, _ = unsigned.split(".")
    if alg == "none":
        token = f"{head}.{body}."
    else:  # "keyed" with the issuer's public JWK, the classic key-confusion forgery
        secret = json.dumps(header).encode()
        mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        token = f"{head}.{body}.{_b64(mac)}"
    report = pipeline.verify(pipeline.VerifyRequest(text=token))
    assert report.verdict is not Verdict.VALID
    # "none" has no signature at all: not even read as a signed token
    refused = "proof" if alg == "HS256" else "input"
    assert _status(report, refused) is Status.FAIL, report.as_json()


def test_after_a_key_rotation_the_new_token_verifies(cast: Cast, lee: Award) -> None:
    before = _token(lee)
    issuer_services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)
    after = _token(lee)
    assert after != before
    for token in (before, after):
        report = pipeline.verify(pipeline.VerifyRequest(text=token))
        assert report.verdict is Verdict.VALID, report.as_json()


def test_a_withdrawn_key_no_longer_verifies_its_tokens(cast: Cast, lee: Award) -> None:
    token = _token(lee)
    issuer_services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)
    issuer_services.withdraw_signing_key(actor=cast.owner, key=lee.signing_key)
    report = pipeline.verify(pipeline.VerifyRequest(text=token))
    assert report.verdict is not Verdict.VALID
    assert _status(report, "issuer_key") is Status.FAIL


def test_a_remote_issuers_token_verifies_with_its_did_web_jwk_method(
    web: FakeWeb, settings: Settings
) -> None:
    did = "did:web:college.example:issuers:7"
    key = Ed25519PrivateKey.generate()
    document = didweb.did_document(
        did, [didweb.VerificationKey("key-1", key.public_key())], jwk=True
    )
    web.json("https://college.example/issuers/7/did.json", document)
    allow(settings, web, "college.example")
    credential = helpers.unsigned(did)
    credential.pop("credentialStatus", None)
    token = vcjwt.sign_credential(
        credential, private_key=key, kid=didweb.jwk_method_id(did + "#key-1")
    )

    report = pipeline.verify(pipeline.VerifyRequest(text=token))
    assert report.verdict is Verdict.VALID, report.as_json()
    assert _status(report, "issuer_key") is Status.PASS
