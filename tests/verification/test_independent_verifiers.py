"""Credentials independent verifiers judge differently from us (issue 18): a CLR 2.0 on VC 1.1,
a subject named by neither ``id`` nor ``identifier``, a proof pointing at a bare DID."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import translation

from openbadges import multikey
from tests.verification import helpers
from verification import pipeline
from verification.report import Report, Status, Verdict

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KEY = Ed25519PrivateKey.generate()
DID = multikey.did_key(KEY.public_key())
METHOD = multikey.did_key_verification_method(KEY.public_key())
VC_V1 = "https://www.w3.org/2018/credentials/v1"
CLR = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY = "https://w3id.org/security/data-integrity/v2"


def _verify(document: dict[str, Any], email: str = "") -> Report:
    return pipeline.verify(pipeline.VerifyRequest(text=json.dumps(document), email=email))


def _vc11(credential: dict[str, Any], *extra_contexts: str) -> dict[str, Any]:
    """``credential`` in its VC 1.1 form: the VC 1.1 context and ``issuanceDate``."""
    credential["@context"] = [VC_V1, *extra_contexts, OB, DATA_INTEGRITY]
    credential["issuanceDate"] = credential.pop("validFrom")
    return credential


# --- c. CLR 2.0 on VC 1.1 ------------------------------------------------------------------


def _clr(inner: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", CLR, OB],
        "id": "urn:uuid:4f4b2c43-6a8a-4b0c-9b1e-2a6b0b3c9d10",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": {"id": DID, "type": ["Profile"], "name": "Example University"},
        "name": "Transcript",
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["ClrSubject"],
            "identifier": [helpers.unsigned(DID)["credentialSubject"]["identifier"][0]],
            "verifiableCredential": [inner],
        },
    }


def test_the_vc_2_0_clr_sample_meets_the_clr_2_0_schema() -> None:
    """The sample below is a real ClrCredential by 1EdTech's schema, which wants validFrom."""
    schema = json.loads(
        (FIXTURES / "clr-schemas" / "clr_v2p0_clrcredential_schema.json").read_text()
    )
    jsonschema.Draft201909Validator(schema).validate(_clr(helpers.did_key_credential(KEY)))
    assert "validFrom" in schema["required"]


def _vc11_inner() -> dict[str, Any]:
    # VC 1.1 protects its terms: a VC 2.0 credential cannot sit inside a VC 1.1 CLR.
    return helpers.sign(_vc11(helpers.unsigned(DID)), KEY, METHOD)


def test_a_clr_2_0_on_vc_1_1_with_issuance_date_is_valid() -> None:
    clr = helpers.sign(_vc11(_clr(_vc11_inner()), CLR), KEY, METHOD)
    assert "validFrom" not in clr and clr["@context"][0] == VC_V1

    report = _verify(clr)

    assert report.format == "clr2"
    structure = report.check("structure")
    assert structure is not None and structure.status is Status.PASS, report.as_json()
    assert "validFrom" not in json.dumps(report.as_json())
    assert report.verdict is Verdict.VALID, report.as_json()


def test_a_clr_2_0_on_vc_1_1_still_needs_its_issuance_date() -> None:
    unsigned = _vc11(_clr(_vc11_inner()), CLR)
    del unsigned["issuanceDate"]

    report = _verify(helpers.sign(unsigned, KEY, METHOD))

    structure = report.check("structure")
    assert structure is not None and structure.status is Status.FAIL
    assert "issuanceDate" in structure.message and "validFrom" not in structure.message
    assert report.verdict is Verdict.INVALID


def test_a_clr_2_0_on_vc_2_0_still_needs_valid_from() -> None:
    unsigned = _clr(helpers.did_key_credential(KEY))
    del unsigned["validFrom"]

    report = _verify(helpers.sign(unsigned, KEY, METHOD))

    structure = report.check("structure")
    assert structure is not None and structure.status is Status.FAIL
    assert "validFrom" in structure.message
    assert report.verdict is Verdict.INVALID


# --- e. a subject with neither id nor identifier ------------------------------------------


def _anonymous(vc11: bool) -> dict[str, Any]:
    unsigned = helpers.unsigned(DID)
    del unsigned["credentialSubject"]["identifier"]
    if vc11:
        unsigned = _vc11(unsigned)
    return helpers.sign(unsigned, KEY, METHOD)


def test_the_ob3_schema_does_not_require_a_subject_id_or_identifier() -> None:
    """What the 1EdTech JSON schema does: the rule is in the prose, not in ``required``."""
    schema = json.loads(
        (FIXTURES / "ob3-api" / "formal" / "achievementcredential.json").read_text()
    )
    subject = schema["$defs"]["AchievementSubject"]
    assert subject["required"] == ["type", "achievement"]
    assert "Either `id` or at least one `identifier`" in subject["properties"]["id"]["description"]


@pytest.mark.parametrize("vc11", [False, True], ids=["vc2.0", "vc1.1"])
def test_a_subject_without_id_or_identifier_is_one_warning_on_both_vc_versions(
    vc11: bool,
) -> None:
    report = _verify(_anonymous(vc11))

    text = json.dumps(report.as_json())
    assert text.count("an id or at least one identifier") == 0, text
    mentions = [c for c in report.checks if "does not say who" in c.message + c.detail]
    assert len(mentions) == 1, report.as_json()
    (check,) = mentions
    assert (check.id, check.status, check.code) == ("recipient", Status.WARN, "no_subject_id")
    assert "Open Badges 3.0" in check.message
    assert report.verdict is Verdict.VALID, report.as_json()
    structure = report.check("structure")
    assert structure is not None and structure.status is not Status.FAIL


@pytest.mark.parametrize("vc11", [False, True], ids=["vc2.0", "vc1.1"])
def test_asking_for_a_recipient_of_an_anonymous_badge_cannot_be_answered(vc11: bool) -> None:
    report = _verify(_anonymous(vc11), email=helpers.LEARNER)

    check = report.check("recipient")
    assert check is not None
    assert (check.status, check.code) == (Status.UNKNOWN, "no_subject_id")
    assert report.verdict is Verdict.UNKNOWN


def test_the_anonymous_subject_verdict_is_explained_in_chinese() -> None:
    with translation.override("zh-hans"):
        report = _verify(_anonymous(False))
        bare = _verify(helpers.sign(helpers.unsigned(DID), KEY, DID))
    check = report.check("recipient")
    assert check is not None and "没有写明颁发给谁" in check.message
    assert "只给出警告" in check.message
    key = bare.check("issuer_key")
    assert key is not None and "而不是它的某个密钥" in key.message


# --- f. a proof naming a bare did:key ------------------------------------------------------


def test_a_proof_whose_verification_method_is_a_bare_did_key_is_refused() -> None:
    bare = helpers.sign(helpers.unsigned(DID), KEY, DID)
    assert bare["proof"][0]["verificationMethod"] == DID

    report = _verify(bare)

    key = report.check("issuer_key")
    assert key is not None
    assert (key.status, key.code) == (Status.FAIL, "method_is_did"), report.as_json()
    assert "not to one of its keys" in key.message
    assert report.verdict is Verdict.INVALID
    assert "Not valid" in report.headline


def test_the_same_key_named_by_its_method_url_is_valid() -> None:
    report = _verify(helpers.did_key_credential(KEY))
    assert report.verdict is Verdict.VALID, report.as_json()
