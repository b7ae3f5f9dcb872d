"""Credentials from any issuer: did:key, did:web and https controller documents."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytest_django.fixtures import Settings

from openbadges import multikey
from tests.verification import helpers
from tests.verification.conftest import Tripwire, allow
from tests.verification.servers import FakeWeb
from verification import pipeline
from verification.report import Report, Verdict

pytestmark = pytest.mark.django_db

DID = "did:web:university.example:issuers:42"
DID_URL = "https://university.example/issuers/42/did.json"
HTTPS_ISSUER = "https://college.example/issuers/7"


def _verify(document: dict[str, object], email: str = "") -> Report:
    return pipeline.verify(pipeline.VerifyRequest(text=json.dumps(document), email=email))


def test_a_did_key_issuer_verifies_offline(tripwire: Tripwire) -> None:
    report = _verify(helpers.did_key_credential())
    assert report.verdict is Verdict.VALID, report.as_json()
    assert tripwire.connections == []


def test_a_did_web_issuer_verifies_with_the_key_from_its_did_document(
    web: FakeWeb, settings: Settings
) -> None:
    key = Ed25519PrivateKey.generate()
    web.json(DID_URL, helpers.did_document(DID, key))
    allow(settings, web, "university.example")
    credential = helpers.sign(helpers.unsigned(DID), key, f"{DID}#key-1")
    report = _verify(credential, email=helpers.LEARNER)
    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.claims["issuer"]["domain"] == "university.example"
    assert report.claims["issuer"]["domain_verified"] is True
    assert report.claims["achievement"]["credits"] == 5


def test_an_https_issuer_with_a_controller_document_verifies(
    web: FakeWeb, settings: Settings
) -> None:
    key = Ed25519PrivateKey.generate()
    method = f"{HTTPS_ISSUER}#{multikey.public_multibase(key.public_key())}"
    web.json(HTTPS_ISSUER, {"id": HTTPS_ISSUER, "type": ["Profile"], "assertionMethod": [method]})
    allow(settings, web, "college.example")
    report = _verify(helpers.sign(helpers.unsigned(HTTPS_ISSUER), key, method))
    assert report.verdict is Verdict.VALID, report.as_json()


def test_an_unreachable_issuer_is_never_reported_valid(web: FakeWeb, settings: Settings) -> None:
    key = Ed25519PrivateKey.generate()
    allow(settings, web, "university.example")  # but nothing is served there: 404
    report = _verify(helpers.sign(helpers.unsigned(DID), key, f"{DID}#key-1"))
    assert report.verdict is Verdict.UNKNOWN
    assert "could not" in report.headline.lower()
