"""OB 3.0 VC-JWT proofs: decoding and checking a compact JWS credential (research §2.4).

OB 3.0 ``integrity.md`` §"JSON Web Token Proof Format" and RFC 7515 §5.2. What this module
enforces, whatever a token says (research/security-reliability.md §1.3, S-07):

- the algorithm allowlist is ``EdDSA``, ``RS256``, ``ES256``, each bound to its key type, so an
  HMAC "signature" keyed with the public key (CVE-2022-29217 class) can never verify, nor can
  ``none``;
- a ``crit`` header is refused (we implement no extension);
- ``jku`` and ``x5u`` are never dereferenced; where the key comes from is the caller's job
  (it must be a document the issuer controls), and a ``jwk`` header is only a *claim* to be
  matched against such a document;
- a public JWK that carries private parts (``d``, ``p``, ``q``…) is refused.

The payload is the credential itself (VC 2.0) or, VC 1.1-style, sits in the ``vc`` claim;
``iss``/``jti``/``sub``/``nbf``/``exp`` must agree with the credential's own fields.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PublicKey = Ed25519PublicKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey
ALGORITHMS: Final = ("EdDSA", "RS256", "ES256")
JWT_CLAIMS: Final = frozenset({"iss", "jti", "nbf", "exp", "sub", "iat", "aud"})
_PRIVATE_JWK_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class VcJwtError(ValueError):
    """A token that is not an acceptable VC-JWT; ``code`` is stable for reports and tests."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Decoded:
    """A decoded (not yet verified) VC-JWT."""

    header: dict[str, Any]
    payload: dict[str, Any]
    credential: dict[str, Any]
    token: str


def _b64json(part: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw)
        # "\ud800" is valid JSON but no text (nothing could show or hash it): refused too.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (binascii.Error, ValueError, RecursionError):
        raise VcJwtError("malformed", f"the JWT {what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise VcJwtError("malformed", f"the JWT {what} is not a JSON object")
    return value


def decode(token: str) -> Decoded:
    """Split and decode ``token`` and apply the header rules; the signature is not checked."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise VcJwtError("malformed", "a VC-JWT is a compact JWS with three non-empty parts")
    header = _b64json(parts[0], "header")
    payload = _b64json(parts[1], "payload")
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise VcJwtError("alg_not_allowed", f"JWS algorithm {algorithm!r} is not accepted")
    if "crit" in header:
        raise VcJwtError("crit_unsupported", "the JWS names critical extensions we do not support")
    if header.get("typ") not in (None, "JWT", "vc+jwt", "vc+ld+jwt"):
        raise VcJwtError("bad_typ", f"JWS typ {header.get('typ')!r} is not a JWT")
    jwk = header.get("jwk")
    if jwk is not None and (not isinstance(jwk, dict) or _PRIVATE_JWK_MEMBERS & set(jwk)):
        raise VcJwtError("bad_jwk", "the JWS header carries a private or malformed key")
    return Decoded(header, payload, credential_of(payload), token.strip())


def credential_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The credential in a JWT payload: the ``vc`` claim (VC 1.1) or the payload itself."""
    inner = payload.get("vc")
    if isinstance(inner, dict):
        return inner
    return {key: value for key, value in payload.items() if key not in JWT_CLAIMS}


def public_key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    """Load an Ed25519 (OKP), RSA or P-256 (EC) *public* JWK; anything else is refused."""
    if not isinstance(jwk, dict) or _PRIVATE_JWK_MEMBERS & set(jwk):
        raise VcJwtError("bad_jwk", "not a public JWK")
    kty = jwk.get("kty")
    key: Any
    try:
        if kty == "OKP" and jwk.get("crv") == "Ed25519":
            key = jwt.algorithms.OKPAlgorithm.from_jwk(jwk)
        elif kty == "RSA":
            key = jwt.algorithms.RSAAlgorithm.from_jwk(jwk)
        elif kty == "EC" and jwk.get("crv") == "P-256":
            key = jwt.algorithms.ECAlgorithm.from_jwk(jwk)
        else:
            raise VcJwtError("bad_jwk", f"unsupported JWK type {kty!r}")
    except (jwt.InvalidKeyError, ValueError, TypeError, KeyError) as error:
        raise VcJwtError("bad_jwk", f"invalid JWK: {error}") from None
    if isinstance(key, Ed25519PublicKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return key
    raise VcJwtError("bad_jwk", "the JWK is not a public key")


def _key_fits(algorithm: str, key: PublicKey) -> bool:
    if algorithm == "EdDSA":
        return isinstance(key, Ed25519PublicKey)
    if algorithm == "RS256":
        return isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048
    return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)


def verify_signature(decoded: Decoded, key: PublicKey) -> None:
    """Verify the JWS with ``key`` under the header's (allow-listed) algorithm only."""
    algorithm = str(decoded.header["alg"])
    if not _key_fits(algorithm, key):
        raise VcJwtError("key_alg_mismatch", f"the key does not fit algorithm {algorithm}")
    try:
        jwt.decode(
            decoded.token,
            key=key,
            algorithms=[algorithm],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise VcJwtError("bad_signature", "the JWS signature does not match") from None
    except jwt.PyJWTError as error:
        raise VcJwtError("malformed", f"the JWS could not be verified: {error}") from None


def _numeric(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def claim_problems(decoded: Decoded, *, now: datetime) -> list[str]:
    """Where the JWT claims disagree with the credential (OB 3.0 §"JWT Proof" verification)."""
    payload, credential = decoded.payload, decoded.credential
    problems: list[str] = []
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if payload.get("iss") != issuer_id:
        problems.append("iss does not equal issuer.id")
    if "jti" in payload and "id" in credential and payload["jti"] != credential["id"]:
        problems.append("jti does not equal the credential id")
    subject = credential.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    if "sub" in payload and subject_id is not None and payload["sub"] != subject_id:
        problems.append("sub does not equal credentialSubject.id")
    not_before = _numeric(payload.get("nbf"))
    if "nbf" in payload and not_before is None:
        problems.append("nbf is not a NumericDate")
    if not_before is not None and not_before > now:
        problems.append("nbf is in the future")
    expires = _numeric(payload.get("exp"))
    if "exp" in payload and expires is None:
        problems.append("exp is not a NumericDate")
    if expires is not None and expires <= now:
        problems.append("exp has passed")
    return problems
