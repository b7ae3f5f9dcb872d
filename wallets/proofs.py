"""The holder's key proof in an OID4VCI credential request (OID4VCI 1.0 Appendix F.1).

A wallet proves it controls the key the credential will be bound to with a JWT signed by
that key:

- header ``typ`` is ``openid4vci-proof+jwt``; ``alg`` is one of the algorithms the issuer
  metadata lists (``EdDSA``, ``ES256``; never ``none`` nor an HMAC);
- the key is named by exactly one of ``kid`` (a ``did:key`` DID URL) or ``jwk`` (a public
  JWK). ``x5c``, ``jku``, ``x5u`` and ``trust_chain`` are refused: nothing is ever fetched
  from a proof;
- payload ``aud`` is this credential issuer's identifier, ``iat`` is recent (not in the
  future beyond a small skew, not older than a nonce lives), and ``nonce`` is a ``c_nonce``
  from the Nonce Endpoint (whether it is fresh and unused is checked by the service that
  consumes it).

The holder's DID is the ``did:key`` itself, or ``did:jwk:<base64url(JWK)>`` for a bare key.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import jwt

from openbadges import multikey, vcjwt

PROOF_TYP: Final = "openid4vci-proof+jwt"
PROOF_ALGORITHMS: Final = ("EdDSA", "ES256")
# Clocks differ: a proof may be dated this far in the future.
CLOCK_SKEW: Final = timedelta(seconds=60)
_FORBIDDEN_HEADERS: Final = ("x5c", "jku", "x5u", "trust_chain", "key_attestation")
_JWK_MEMBERS: Final = ("kty", "crv", "x", "y")


class ProofError(ValueError):
    """A key proof that is refused; ``error`` is the OAuth-style error code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class HolderProof:
    """A key proof whose signature checked out: the holder's DID and the nonce it carries."""

    holder_id: str
    nonce: str


def _did_jwk(jwk: dict[str, Any]) -> str:
    public = {name: jwk[name] for name in _JWK_MEMBERS if name in jwk}
    text = json.dumps(public, separators=(",", ":"), sort_keys=True)
    return "did:jwk:" + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _key_of(header: dict[str, Any]) -> tuple[vcjwt.PublicKey, str]:
    kid, jwk = header.get("kid"), header.get("jwk")
    if (kid is None) == (jwk is None):
        raise ProofError(
            "invalid_proof", "The proof must name its key by exactly one of kid or jwk."
        )
    if jwk is not None:
        try:
            return vcjwt.public_key_from_jwk(jwk), _did_jwk(jwk)
        except vcjwt.VcJwtError as error:
            raise ProofError("invalid_proof", f"The proof's jwk is not usable: {error}") from None
    if not isinstance(kid, str) or not kid.startswith("did:key:"):
        raise ProofError("invalid_proof", "The proof's kid must be a did:key DID URL.")
    try:
        public = multikey.public_key_from_did_key(kid)
        key = multikey.public_key_from_bytes(public)
    except (multikey.MultikeyError, ValueError):
        raise ProofError("invalid_proof", "The proof's did:key is not an Ed25519 key.") from None
    return key, kid.partition("#")[0]


def _decode(token: str) -> vcjwt.Decoded:
    # Not ``vcjwt.decode``: that one accepts only a credential's ``typ``.
    try:
        header = jwt.get_unverified_header(token)
        # nosemgrep: jwt-decode-without-algorithms - read here, its signature checked by the caller
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise ProofError("invalid_proof", "The proof is not a compact JWT.") from None
    if not isinstance(payload, dict):
        raise ProofError("invalid_proof", "The proof's payload is not a JSON object.")
    if "crit" in header:
        raise ProofError("invalid_proof", "The proof names critical extensions.")
    return vcjwt.Decoded(header, payload, {}, token)


def verify_key_proof(
    token: Any, *, audience: str, now: datetime, max_age: timedelta
) -> HolderProof:
    """Check ``token`` as an OID4VCI ``jwt`` key proof for ``audience``; raise
    :class:`ProofError` with the reason, else return the holder's DID and the nonce."""
    if not isinstance(token, str) or not token:
        raise ProofError("invalid_proof", "The credential request carries no key proof.")
    decoded = _decode(token)
    header, payload = decoded.header, decoded.payload
    if header.get("typ") != PROOF_TYP:
        raise ProofError("invalid_proof", f"The proof's typ must be {PROOF_TYP}.")
    if header.get("alg") not in PROOF_ALGORITHMS:
        raise ProofError("invalid_proof", "The proof's algorithm is not supported.")
    for name in _FORBIDDEN_HEADERS:
        if name in header:
            raise ProofError("invalid_proof", f"The proof's {name} header is not accepted.")
    key, holder_id = _key_of(header)
    try:
        vcjwt.verify_signature(decoded, key)
    except vcjwt.VcJwtError as error:
        raise ProofError(
            "invalid_proof", f"The proof's signature does not verify: {error}"
        ) from None
    audiences = payload.get("aud")
    if audience not in (audiences if isinstance(audiences, list) else [audiences]):
        raise ProofError("invalid_proof", "The proof is meant for another credential issuer (aud).")
    issued = payload.get("iat")
    if not isinstance(issued, int | float) or isinstance(issued, bool):
        raise ProofError("invalid_proof", "The proof has no iat.")
    issued_at = datetime.fromtimestamp(issued, tz=now.tzinfo)
    if issued_at > now + CLOCK_SKEW or issued_at < now - max_age:
        raise ProofError("invalid_proof", "The proof's iat is too far from now.")
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise ProofError("invalid_nonce", "The proof carries no c_nonce: ask the nonce endpoint.")
    return HolderProof(holder_id=holder_id, nonce=nonce)
