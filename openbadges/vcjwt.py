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

Issuing (:func:`sign_credential`). Our credentials are VC 2.0 (``@context``
``https://www.w3.org/ns/credentials/v2``), so the token follows the VC 2.0 securing
specification, W3C VC-JOSE-COSE §3.1 (Securing with JOSE), within OB 3.0.3 §8.2's limits:

- the payload is the credential itself, without ``proof`` (no ``vc`` wrapper: that is
  VC 1.1, which OB 3.0.3 keeps only for verifiers reading older tokens), plus OB 3.0.3's
  registered claims ``iss`` (``issuer.id``), ``jti`` (``id``), ``nbf`` (``validFrom``),
  ``exp`` (``validUntil``, when there is one) and ``sub`` (``credentialSubject.id``, when
  there is one: an e-mail recipient has none, so there is no ``sub`` to give);
- the header is exactly ``alg`` ``EdDSA`` (Ed25519, the issuer's did:web key), ``kid`` (a
  DID URL naming a ``JsonWebKey`` method of the issuer's DID document, listed under
  ``assertionMethod``) and ``typ`` ``vc+jwt`` — the media type we serve it as
  (``application/vc+jwt``, VC-JOSE-COSE §6.1.1). OB 3.0.3 asks ``typ`` to be ``JWT`` "if
  present" and allows no other header; we follow VC-JOSE-COSE here because OB 3.0.3 §8.2
  defers to it for VC 2.0 credentials and a JOSE verifier checks ``typ`` to tell a
  credential from any other JWT signed by the same key. ``cty`` (optional in
  VC-JOSE-COSE) is left out, as OB 3.0.3 allows no extra header. Our own
  :func:`decode` accepts ``JWT`` and ``vc+jwt`` alike.
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
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PublicKey = Ed25519PublicKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey
ALGORITHMS: Final = ("EdDSA", "RS256", "ES256")
JWT_CLAIMS: Final = frozenset({"iss", "jti", "nbf", "exp", "sub", "iat", "aud"})
_PRIVATE_JWK_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
TYP: Final = "vc+jwt"
MEDIA_TYPE: Final = "application/vc+jwt"


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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ed25519_jwk(public_key: bytes | Ed25519PublicKey) -> dict[str, str]:
    """The public JWK of an Ed25519 key (RFC 8037 §2): ``{kty: OKP, crv: Ed25519, x}``."""
    raw = (
        public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        if isinstance(public_key, Ed25519PublicKey)
        else bytes(public_key)
    )
    if len(raw) != 32:
        raise VcJwtError("bad_jwk", "an Ed25519 public key is 32 bytes")
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}


def _numeric_date(value: Any, what: str) -> int:
    """A credential's ``validFrom``/``validUntil`` as a JWT NumericDate (whole seconds)."""
    if not isinstance(value, str):
        raise VcJwtError("malformed", f"the credential's {what} is not a date-time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise VcJwtError("malformed", f"the credential's {what} is not a date-time") from None
    if moment.tzinfo is None:
        raise VcJwtError("malformed", f"the credential's {what} has no time zone")
    return int(moment.timestamp())


def jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """OB 3.0.3 §8.2.2's registered claims for ``credential`` (see the module docstring)."""
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer_id, str) or not issuer_id:
        raise VcJwtError("malformed", "the credential has no issuer id for the iss claim")
    claims: dict[str, Any] = {"iss": issuer_id}
    if isinstance(credential.get("id"), str):
        claims["jti"] = credential["id"]
    claims["nbf"] = _numeric_date(credential.get("validFrom"), "validFrom")
    if "validUntil" in credential:
        claims["exp"] = _numeric_date(credential["validUntil"], "validUntil")
    subject = credential.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    if isinstance(subject_id, str):
        claims["sub"] = subject_id
    return claims


def sign_credential(credential: dict[str, Any], *, private_key: Ed25519PrivateKey, kid: str) -> str:
    """Secure ``credential`` as a VC-JWT: a compact JWS, ``alg`` EdDSA, ``typ`` vc+jwt, ``kid``
    the signing key's DID URL; the payload is the credential without ``proof``, plus
    :func:`jwt_claims`. Raises :class:`VcJwtError` for a credential that cannot be one
    (no issuer id, no ``validFrom``, or members named like the JWT claims)."""
    if not isinstance(kid, str) or not kid:
        raise VcJwtError("no_kid", "a VC-JWT names its key (kid)")
    clashing = sorted(JWT_CLAIMS & set(credential))
    if clashing or "vc" in credential:
        raise VcJwtError(
            "malformed", f"the credential has members named like JWT claims: {clashing}"
        )
    body = {key: value for key, value in credential.items() if key != "proof"}
    payload = {**body, **jwt_claims(credential)}
    return jwt.encode(payload, private_key, algorithm="EdDSA", headers={"kid": kid, "typ": TYP})
