"""openbadges.vcjwt: header rules, payload forms and claim checks (OB 3.0 §2.4, RFC 7515)."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openbadges import vcjwt

NOW = datetime(2025, 1, 1, tzinfo=UTC)
CREDENTIAL = {
    "id": "urn:uuid:1",
    "issuer": {"id": "did:example:issuer"},
    "credentialSubject": {"id": "did:example:learner"},
}
KEY = Ed25519PrivateKey.generate()


def _token(payload: dict[str, object], **headers: object) -> str:
    return jwt.encode(payload, KEY, algorithm="EdDSA", headers=headers or None)


def test_a_vc_2_payload_is_the_credential_without_jwt_claims() -> None:
    decoded = vcjwt.decode(_token({**CREDENTIAL, "iss": "did:example:issuer", "nbf": 1}))
    assert decoded.credential == CREDENTIAL


def test_a_vc_1_1_payload_keeps_the_credential_in_vc() -> None:
    decoded = vcjwt.decode(_token({"vc": CREDENTIAL, "iss": "did:example:issuer"}))
    assert decoded.credential == CREDENTIAL


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512", "ES384", "PS256", ""])
def test_algorithms_outside_the_allowlist_are_refused(alg: str) -> None:
    import base64
    import json

    head = base64.urlsafe_b64encode(json.dumps({"alg": alg}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(CREDENTIAL).encode()).rstrip(b"=").decode()
    with pytest.raises(vcjwt.VcJwtError) as error:
        vcjwt.decode(f"{head}.{body}.c2ln")
    assert error.value.code == "alg_not_allowed"


def test_a_key_of_the_wrong_type_never_verifies() -> None:
    import json

    from cryptography.hazmat.primitives.asymmetric import ec

    decoded = vcjwt.decode(_token({**CREDENTIAL, "iss": "did:example:issuer"}))
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(vcjwt.VcJwtError) as error:
        vcjwt.verify_signature(decoded, other)
    assert error.value.code == "key_alg_mismatch"
    assert json.dumps(decoded.header)


def test_the_right_key_verifies_and_a_changed_payload_does_not() -> None:
    token = _token({**CREDENTIAL, "iss": "did:example:issuer"})
    vcjwt.verify_signature(vcjwt.decode(token), KEY.public_key())
    head, _body, signature = token.split(".")
    forged_body = _token({**CREDENTIAL, "iss": "did:example:evil"}).split(".")[1]
    with pytest.raises(vcjwt.VcJwtError):
        vcjwt.verify_signature(vcjwt.decode(f"{head}.{forged_body}.{signature}"), KEY.public_key())


def test_claims_must_agree_with_the_credential() -> None:
    good = vcjwt.decode(
        _token({**CREDENTIAL, "iss": "did:example:issuer", "jti": "urn:uuid:1", "nbf": 1})
    )
    assert vcjwt.claim_problems(good, now=NOW) == []
    bad = vcjwt.decode(
        _token(
            {
                **CREDENTIAL,
                "iss": "did:example:x",
                "jti": "urn:uuid:2",
                "sub": "did:example:y",
                "exp": 2,
            }
        )
    )
    assert vcjwt.claim_problems(bad, now=NOW) == [
        "iss does not equal issuer.id",
        "jti does not equal the credential id",
        "sub does not equal credentialSubject.id",
        "exp has passed",
    ]
