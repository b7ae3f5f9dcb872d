"""The DIDAuth checks that come before the signature, one refusal each.

The signed cases (a good presentation in both suites, a wrong challenge or domain, a tampered
or mismatched holder) are made by Digital Bazaar's library in test_lcw_exchange.py; here the
presentation is a hand-edited shape, because each of these checks refuses it unsigned.
"""

from __future__ import annotations

from typing import Any

import pytest

from openbadges.multikey import multibase_encode
from wallets.didauth import DidAuthError, check_presentation

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
CHALLENGE = "c-123"
DOMAIN = "https://badges.example.org"


def presentation(**proof: Any) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/security/suites/ed25519-2020/v1",
        ],
        "type": ["VerifiablePresentation"],
        "holder": DID,
        "proof": {
            "type": "Ed25519Signature2020",
            "created": "2026-12-05T03:00:00Z",
            "verificationMethod": f"{DID}#{DID.removeprefix('did:key:')}",
            "proofPurpose": "authentication",
            "challenge": CHALLENGE,
            "domain": DOMAIN,
            "proofValue": multibase_encode(bytes(range(64))),  # 64 bytes, signing nothing
            **proof,
        },
    }


def refusal(document: Any) -> str:
    with pytest.raises(DidAuthError) as raised:
        check_presentation(document, challenge=CHALLENGE, domain=DOMAIN)
    assert str(raised.value)
    return raised.value.code


def test_each_check_before_the_signature_names_what_is_wrong() -> None:
    two_proofs = presentation()
    two_proofs["proof"] = [two_proofs["proof"], two_proofs["proof"]]
    not_a_presentation = {**presentation(), "type": ["VerifiableCredential"]}

    assert {
        "not an object": refusal(["VerifiablePresentation"]),
        "not a presentation": refusal(not_a_presentation),
        "two proofs": refusal(two_proofs),
        "JWS-style suite": refusal(presentation(type="JsonWebSignature2020")),
        "other cryptosuite": refusal(
            presentation(type="DataIntegrityProof", cryptosuite="ecdsa-rdfc-2019")
        ),
        "assertion": refusal(presentation(proofPurpose="assertionMethod")),
        "no challenge": refusal(presentation(challenge=None)),
        "no domain": refusal(presentation(domain=None)),
        "did:web key": refusal(presentation(verificationMethod="did:web:evil.example#key-1")),
        "no fragment": refusal(presentation(verificationMethod=DID)),
        "short signature": refusal(presentation(proofValue="z1111")),
    } == {
        "not an object": "malformed",
        "not a presentation": "malformed",
        "two proofs": "no_proof",
        "JWS-style suite": "unsupported_suite",
        "other cryptosuite": "unsupported_suite",
        "assertion": "wrong_purpose",
        "no challenge": "wrong_challenge",
        "no domain": "wrong_domain",
        "did:web key": "unsupported_did",
        "no fragment": "unsupported_did",
        "short signature": "bad_signature",
    }


def test_a_domain_list_that_names_this_site_passes_the_domain_check() -> None:
    # Data Integrity allows several domains; the check then moves on to the signature.
    with pytest.raises(DidAuthError, match="signature does not verify") as raised:
        check_presentation(
            presentation(domain=["https://other.example", DOMAIN]),
            challenge=CHALLENGE,
            domain=DOMAIN,
        )
    assert raised.value.code == "bad_signature"


def test_an_unknown_context_is_malformed_not_a_crash() -> None:
    document = presentation()
    document["@context"] = ["https://example.com/unknown-context.jsonld"]

    assert refusal(document) == "malformed"  # nothing is fetched: contexts are bundled only
