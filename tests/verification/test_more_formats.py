"""Other proof suites and formats issuers use: eddsa-jcs-2022, CLR 2.0."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openbadges import multikey, suites
from tests.verification import helpers
from verification import pipeline
from verification.report import Verdict

pytestmark = pytest.mark.django_db

KEY = Ed25519PrivateKey.generate()
DID = multikey.did_key(KEY.public_key())
METHOD = multikey.did_key_verification_method(KEY.public_key())
CLR_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


def _verify(document: dict[str, Any]) -> pipeline.VerifyRequest:
    return pipeline.VerifyRequest(text=json.dumps(document))


def test_an_eddsa_jcs_2022_credential_verifies_and_a_change_is_caught() -> None:
    options = {
        "verificationMethod": METHOD,
        "proofPurpose": "assertionMethod",
        "created": "2024-01-01T00:00:00Z",
    }
    signed = suites.sign_jcs(helpers.unsigned(DID), options, KEY)
    report = pipeline.verify(_verify(signed))
    assert report.verdict is Verdict.VALID, report.as_json()
    assert pipeline.verify(_verify(helpers.tampered(signed))).verdict is Verdict.TAMPERED


def _clr(inner: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": CLR_CONTEXT,
        "id": "urn:uuid:4f4b2c43-6a8a-4b0c-9b1e-2a6b0b3c9d10",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": {"id": DID, "type": ["Profile"], "name": "Example University"},
        "name": "Transcript",
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["ClrSubject"],
            "identifier": [helpers.unsigned(DID)["credentialSubject"]["identifier"][0]],
            "verifiableCredential": inner,
        },
    }


def test_a_clr_and_every_credential_in_it_are_verified() -> None:
    inner = helpers.did_key_credential(KEY)
    clr = helpers.sign(_clr([inner]), KEY, METHOD)
    report = pipeline.verify(_verify(clr))
    assert report.format == "clr2"
    assert report.verdict is Verdict.VALID, report.as_json()
    contents = report.check("contents")
    assert contents is not None and contents.code == "ok"


def test_a_clr_signed_over_a_forged_credential_is_not_valid() -> None:
    inner = helpers.tampered(helpers.did_key_credential(KEY))
    clr = helpers.sign(_clr([copy.deepcopy(inner)]), KEY, METHOD)
    report = pipeline.verify(_verify(clr))
    assert report.verdict is Verdict.INVALID, report.as_json()
    contents = report.check("contents")
    assert contents is not None and contents.code == "inner_invalid"
