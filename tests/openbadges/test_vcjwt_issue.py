"""openbadges.vcjwt.sign_credential: a VC-JWT our own decoder, PyJWT and the DID document
builder agree on (VC-JOSE-COSE §3.1 within OB 3.0.3 §8.2)."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openbadges import dataintegrity, didweb, vcjwt
from tests.openbadges.helpers import ISSUER_DID, NOW, make_credential

KEY = Ed25519PrivateKey.generate()
KID = didweb.jwk_method_id(ISSUER_DID + "#key-1")


def _signed(credential: dict[str, Any] | None = None) -> str:
    return vcjwt.sign_credential(credential or make_credential(), private_key=KEY, kid=KID)


def _part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return value


def test_the_header_is_eddsa_with_the_kid_and_typ_vc_jwt_and_nothing_else() -> None:
    assert _part(_signed(), 0) == {"alg": "EdDSA", "kid": KID, "typ": "vc+jwt"}


def test_the_payload_is_the_credential_without_its_proof_plus_the_ob3_claims() -> None:
    credential = make_credential()
    signed = dataintegrity.sign(
        credential, private_key=KEY, verification_method=ISSUER_DID + "#key-1", created=NOW
    )
    payload = _part(_signed(signed), 1)

    assert "proof" not in payload and "vc" not in payload
    assert payload["iss"] == ISSUER_DID == credential["issuer"]["id"]
    assert payload["jti"] == credential["id"]
    assert payload["nbf"] == int(NOW.timestamp())
    assert payload["exp"] > payload["nbf"]
    # an e-mail recipient has no credentialSubject.id, so there is no sub to give
    assert "sub" not in payload
    assert {k: v for k, v in payload.items() if k not in vcjwt.JWT_CLAIMS} == credential


def test_our_decoder_reads_back_the_credential_and_finds_the_claims_consistent() -> None:
    credential = make_credential()
    decoded = vcjwt.decode(_signed(credential))

    vcjwt.verify_signature(decoded, KEY.public_key())
    assert decoded.credential == credential
    assert vcjwt.claim_problems(decoded, now=NOW) == []


def test_a_holder_bound_credential_carries_its_subject_as_sub() -> None:
    credential = make_credential()
    credential["credentialSubject"]["id"] = "did:key:z6MkholderExample"
    assert _part(_signed(credential), 1)["sub"] == "did:key:z6MkholderExample"


def test_pyjwt_verifies_it_with_the_jwk_published_in_the_did_document() -> None:
    document = didweb.did_document(
        ISSUER_DID, [didweb.VerificationKey("key-1", KEY.public_key())], jwk=True
    )
    token = _signed()
    header = jwt.get_unverified_header(token)
    method = next(m for m in document["verificationMethod"] if m["id"] == header["kid"])
    assert method["type"] == "JsonWebKey" and header["kid"] in document["assertionMethod"]

    key = jwt.PyJWK(method["publicKeyJwk"], algorithm="EdDSA")
    claims = jwt.decode(
        token, key, algorithms=["EdDSA"], issuer=ISSUER_DID, options={"require": ["iss", "nbf"]}
    )
    assert claims["credentialSubject"] == make_credential()["credentialSubject"]


def test_the_did_document_lists_each_key_once_per_kind_and_keeps_multikey_first() -> None:
    public = KEY.public_key()
    document = didweb.did_document(
        ISSUER_DID,
        [
            didweb.VerificationKey("key-2", public),
            didweb.VerificationKey("key-1", public, assertion=False),
        ],
        jwk=True,
    )
    methods = document["verificationMethod"]
    assert [m["type"] for m in methods] == ["Multikey", "Multikey", "JsonWebKey", "JsonWebKey"]
    assert all("publicKeyMultibase" not in m for m in methods[2:])  # one material per method
    assert all("d" not in m["publicKeyJwk"] for m in methods[2:])
    assert document["assertionMethod"] == [ISSUER_DID + "#key-2", ISSUER_DID + "#key-2-jwk"]


def test_a_changed_payload_no_longer_verifies() -> None:
    head, _payload, signature = _signed().split(".")
    forged = make_credential(description="Awarded with distinction.")
    body = base64.urlsafe_b64encode(
        json.dumps({**forged, **vcjwt.jwt_claims(forged)}).encode()
    ).rstrip(b"=")
    decoded = vcjwt.decode(f"{head}.{body.decode()}.{signature}")
    with pytest.raises(vcjwt.VcJwtError) as error:
        vcjwt.verify_signature(decoded, KEY.public_key())
    assert error.value.code == "bad_signature"


def test_it_refuses_a_credential_whose_members_clash_with_jwt_claims() -> None:
    with pytest.raises(vcjwt.VcJwtError, match="iss"):
        _signed({**make_credential(), "iss": "did:web:someone.else"})


def test_it_refuses_a_credential_without_a_valid_from_or_a_kid() -> None:
    credential = make_credential()
    del credential["validFrom"]
    with pytest.raises(vcjwt.VcJwtError, match="validFrom"):
        _signed(credential)
    with pytest.raises(vcjwt.VcJwtError):
        vcjwt.sign_credential(make_credential(), private_key=KEY, kid="")
