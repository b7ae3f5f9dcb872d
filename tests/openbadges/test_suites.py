"""openbadges.suites: RFC 8785 JCS and the eddsa-jcs-2022 / legacy eddsa-2022 suites."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openbadges import dataintegrity, multikey, suites

KEY = Ed25519PrivateKey.generate()
DOCUMENT = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:1",
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "credentialSubject": {"id": "did:example:learner", "name": "Zoë €"},
}
OPTIONS = {
    "verificationMethod": multikey.did_key_verification_method(KEY.public_key()),
    "proofPurpose": "assertionMethod",
    "created": "2024-01-01T00:00:00Z",
}


def test_jcs_matches_the_rfc_8785_sample() -> None:
    # RFC 8785 §3.2.2/§3.2.3 example input and output.
    value = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    assert suites.jcs(value) == (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )


def test_jcs_sorts_keys_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB33 (code point order would not).
    assert suites.jcs({"\U0001f600": 1, "\ufb33": 2, "a": 3}) == '{"a":3,"\U0001f600":1,"\ufb33":2}'


def test_an_eddsa_jcs_2022_proof_round_trips_and_detects_changes() -> None:
    signed = suites.sign_jcs(DOCUMENT, OPTIONS, KEY)
    proof = signed["proof"][0]
    suites.verify_jcs(signed, proof, KEY.public_key())
    changed = {**signed, "issuer": "did:example:someone-else"}
    with pytest.raises(suites.SuiteError, match="invalid signature"):
        suites.verify_jcs(changed, proof, KEY.public_key())


def test_legacy_eddsa_2022_is_the_rdfc_algorithm_under_another_name() -> None:
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:2",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }
    signed = dataintegrity.sign(
        document,
        private_key=KEY,
        verification_method=str(OPTIONS["verificationMethod"]),
        created=datetime(2024, 1, 1, tzinfo=UTC),
    )
    legacy = {**signed["proof"][0], "cryptosuite": suites.LEGACY_SUITE}
    # The suite string is part of the signed proof configuration, so a relabelled proof fails…
    with pytest.raises(suites.SuiteError):
        suites.verify_legacy_rdfc(signed, legacy, KEY.public_key())
    # …and a proof made under the legacy name verifies.
    config = {k: v for k, v in legacy.items() if k != "proofValue"}
    data = dataintegrity.hash_data(dict(document), {**config, "@context": document["@context"]})
    legacy["proofValue"] = multikey.multibase_encode(KEY.sign(data))
    suites.verify_legacy_rdfc({**document, "proof": [legacy]}, legacy, KEY.public_key())


def _ed25519_2020_fixture() -> tuple[dict[str, object], dict[str, object]]:
    # 1EdTech validator corpus: a VC 1.1-era OB 3.0 credential signed with Ed25519Signature2020.
    path = Path(__file__).parent.parent / "fixtures" / "1edtech-validator" / "ob30"
    document = json.loads((path / "simple_v1.json").read_text())
    proof = document["proof"][0] if isinstance(document["proof"], list) else document["proof"]
    return document, proof


def test_ed25519_signature_2020_checks_the_1edtech_sample_and_detects_changes() -> None:
    document, proof = _ed25519_2020_fixture()
    method = str(proof["verificationMethod"])
    public_key = multikey.public_key_from_bytes(
        multikey.decode_public_multibase(method.split("#", 1)[1])
    )
    suites.verify_ed25519_2020(document, proof, public_key)
    changed = {**document, "name": str(document["name"]) + "!"}
    with pytest.raises(suites.SuiteError, match="invalid signature"):
        suites.verify_ed25519_2020(changed, proof, public_key)
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(suites.SuiteError):
        suites.verify_ed25519_2020(document, proof, other)
    with pytest.raises(suites.SuiteError, match="not an Ed25519Signature2020"):
        suites.verify_ed25519_2020(document, {**proof, "type": "DataIntegrityProof"}, public_key)
