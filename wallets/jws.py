"""A stand-in for ``openbadges.vcjwt.sign_credential`` until that lands in the standards core.

It has exactly that function's signature and output: an EdDSA compact JWS whose header is
``{"alg": "EdDSA", "kid": kid, "typ": "vc+jwt"}`` and whose payload is the VC 2.0 credential
itself plus the registered claims the OB 3.0 VC-JWT rules ask to agree with it (``iss``,
``jti``, ``sub``, ``nbf``, ``exp``), so ``openbadges.vcjwt.claim_problems`` finds none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _numeric(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def sign_credential(credential: dict[str, Any], *, private_key: Ed25519PrivateKey, kid: str) -> str:
    """``credential`` (unsecured, VC 2.0) as an EdDSA VC-JWT signed with ``private_key``."""
    payload: dict[str, Any] = dict(credential)
    issuer = credential.get("issuer")
    payload["iss"] = issuer.get("id") if isinstance(issuer, dict) else issuer
    if "id" in credential:
        payload["jti"] = credential["id"]
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict) and "id" in subject:
        payload["sub"] = subject["id"]
    not_before = _numeric(credential.get("validFrom"))
    if not_before is not None:
        payload["nbf"] = not_before
    expires = _numeric(credential.get("validUntil"))
    if expires is not None:
        payload["exp"] = expires
    return jwt.encode(
        payload, private_key, algorithm="EdDSA", headers={"kid": kid, "typ": "vc+jwt"}
    )
