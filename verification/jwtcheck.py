"""Checks of an OB 3.0 VC-JWT (``openbadges.vcjwt``), with keys only from the issuer.

Where the key may come from (research §2.4 "key provenance", ASVS 9.1.3):

- ``kid`` a DID URL (``did:web``/``did:key``): resolved like a Data Integrity method
  (:mod:`verification.keyresolve`: controller = issuer, listed under ``assertionMethod``);
  Ed25519 (``EdDSA``) keys only;
- ``kid`` an https URL on the issuer's own origin, answering one JWK;
- a ``jwk`` header only if the same key is in the issuer's JWKS at
  ``https://<issuer authority>/.well-known/jwks.json``.

``jku`` and ``x5u`` are never fetched.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext as _

from openbadges import vcjwt
from verification import fetcher
from verification.keyresolve import KeyProblem, resolve
from verification.report import Check, Status


def _authority(issuer_id: str) -> str:
    if issuer_id.startswith("did:web:"):
        return unquote(issuer_id.removeprefix("did:web:").split(":", 1)[0])
    if issuer_id.startswith("https://"):
        return urlsplit(issuer_id).netloc
    return ""


def _fetch_json(url: str) -> Any:
    try:
        response = fetcher.fetch(url)
    except fetcher.FetchError as error:
        raise KeyProblem(
            "key_fetch_failed",
            _("The issuer's key document could not be retrieved, so the key could not be checked."),
            unknown=True,
            detail=f"{error.code}: {url}",
        ) from None
    if response.status != 200:
        raise KeyProblem(
            "key_fetch_failed",
            _("The issuer's key document could not be retrieved, so the key could not be checked."),
            unknown=True,
            detail=f"HTTP {response.status}: {url}",
        )
    try:
        return json.loads(response.body)
    except (ValueError, RecursionError):
        raise KeyProblem(
            "key_document_invalid", _("The issuer's key document is not valid JSON.")
        ) from None


def _public_members(jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: jwk.get(k) for k in ("kty", "crv", "x", "y", "n", "e")}


def _key(decoded: vcjwt.Decoded, issuer_id: str) -> tuple[vcjwt.PublicKey, str]:
    kid = decoded.header.get("kid")
    jwk = decoded.header.get("jwk")
    if isinstance(kid, str) and kid.startswith("did:"):
        try:
            return resolve(kid, issuer_id).public_key, "did"
        except KeyProblem as problem:
            # A method the issuer's DID document lists for assertions, with an RSA or P-256
            # JWK (JsonWebKey2020): fine for RS256/ES256 tokens (OB 3.0 §8.2.4).
            jwk = problem.method.get("publicKeyJwk") if problem.method else None
            if not isinstance(jwk, dict):
                raise
            return vcjwt.public_key_from_jwk(jwk), "did"
    if isinstance(kid, str) and kid.startswith("https://"):
        if not _authority(issuer_id) or urlsplit(kid).netloc != _authority(issuer_id):
            raise KeyProblem(
                "controller_mismatch",
                _("The signing key is not one of the issuer's keys."),
                detail=f"kid {kid} is not on the issuer's origin",
            )
        document = _fetch_json(kid)
        if not isinstance(document, dict):
            raise KeyProblem("key_invalid", _("The issuer's key is not an Ed25519 key we can use."))
        return vcjwt.public_key_from_jwk(document), "https"
    if isinstance(jwk, dict):
        authority = _authority(issuer_id)
        if not authority:
            raise KeyProblem(
                "controller_mismatch",
                _("The token carries its own key, and nothing shows the issuer owns it."),
            )
        keys = _fetch_json(f"https://{authority}/.well-known/jwks.json")
        listed = keys.get("keys", []) if isinstance(keys, dict) else []
        wanted = _public_members(jwk)
        if not any(isinstance(k, dict) and _public_members(k) == wanted for k in listed):
            raise KeyProblem(
                "not_assertion_method",
                _("The token carries its own key, and nothing shows the issuer owns it."),
            )
        return vcjwt.public_key_from_jwk(jwk), "https"
    raise KeyProblem("no_method", _("The signature does not say which key made it."))


def proof_and_key(decoded: vcjwt.Decoded, issuer_id: str | None, *, now: datetime) -> list[Check]:
    """The ``proof`` and ``issuer_key`` checks of a VC-JWT."""
    try:
        key, how = _key(decoded, issuer_id or "")
    except KeyProblem as problem:
        return [
            Check(
                "proof",
                Status.UNKNOWN if problem.unknown else Status.SKIP,
                "key_unavailable",
                _("The signature could not be checked without the issuer's key."),
            ),
            Check(
                "issuer_key",
                Status.UNKNOWN if problem.unknown else Status.FAIL,
                problem.code,
                problem.message,
                problem.detail,
            ),
        ]
    except vcjwt.VcJwtError as error:
        return [
            Check("proof", Status.FAIL, error.code, _("The signature is malformed."), str(error)),
            Check("issuer_key", Status.FAIL, error.code, _("The issuer's key cannot be used.")),
        ]
    key_check = Check(
        "issuer_key",
        Status.PASS,
        how,
        _("Signed with a key the issuer publishes."),
        str(decoded.header.get("kid", "")),
    )
    try:
        vcjwt.verify_signature(decoded, key)
    except vcjwt.VcJwtError as error:
        if error.code == "bad_signature":
            message = _(
                "The signature does not match: the content was changed after it was signed."
            )
            return [Check("proof", Status.FAIL, "tampered", message), key_check]
        return [
            Check("proof", Status.FAIL, error.code, _("The signature is malformed."), str(error)),
            key_check,
        ]
    problems = vcjwt.claim_problems(decoded, now=now)
    if problems:
        return [
            Check(
                "proof",
                Status.FAIL,
                "claims_mismatch",
                _("The token's own claims contradict the credential inside it."),
                "; ".join(problems),
            ),
            key_check,
        ]
    return [
        Check(
            "proof",
            Status.PASS,
            "ok",
            _("The issuer's signature is intact: nothing was changed after signing."),
        ),
        key_check,
    ]
