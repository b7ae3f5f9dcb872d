"""Open Badges 2.0 verification rules, as pure functions (research/open-badges-spec.md §5).

Hosted assertions (``verification.type`` ``hosted``/``HostedBadge``): the copy at the
assertion's ``id`` is the source of truth, and that ``id`` must be in the issuer's scope
(``verification.allowedOrigins`` / ``startsWith``; the default is the host of the issuer's
``id``) — the defence against an assertion on an attacker's site claiming a university
(openbadges-backpack #1003, #496). Signed assertions (``signed``/``SignedBadge``): a compact JWS,
RS256 only, whose ``creator`` key is listed in the issuer's ``publicKey`` and owned by it.
Revocation: HTTP 410, ``revoked: true``, or an issuer ``RevocationList`` (entries are id
strings, ``{"id"}`` objects or legacy ``{"uid"}``; a one-entry list counts).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

OB2_CONTEXT: Final = "https://w3id.org/openbadges/v2"
HOSTED: Final = frozenset({"hosted", "HostedBadge"})
SIGNED: Final = frozenset({"signed", "SignedBadge"})


class Ob2Error(ValueError):
    """An OB 2.0 document or signature that cannot be accepted; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def types_of(node: Any) -> set[str]:
    """The ``type`` of a JSON-LD node as a set (a string or an array in OB 2.0)."""
    if not isinstance(node, dict):
        return set()
    value = node.get("type", [])
    return {str(v) for v in (value if isinstance(value, list) else [value])}


def _missing(node: Any, keys: tuple[str, ...], what: str) -> list[str]:
    if not isinstance(node, dict):
        return [f"{what} is not an object"]
    return [f"{what}.{key} is required" for key in keys if node.get(key) in (None, "", [])]


# The v2 context and the aliases the 1EdTech validator accepts for it.
OB2_CONTEXTS: Final = frozenset(
    {OB2_CONTEXT, "https://w3id.org/openbadges/v2/", "https://openbadgespec.org/v2/context.json"}
)


def context_problem(document: Any) -> str | None:
    """OB 2.0 §JSON-LD: a document's ``@context`` must include the Open Badges v2 context."""
    value = document.get("@context") if isinstance(document, dict) else None
    values = value if isinstance(value, list) else [value]
    if any(isinstance(v, str) and v in OB2_CONTEXTS for v in values):
        return None
    if any(isinstance(v, dict) for v in values):  # an inline copy of the context (rare, allowed)
        return None
    return f"@context must include {OB2_CONTEXT}"


def structure_problems(assertion: Any, badge: Any, issuer: Any) -> list[str]:
    """Required properties of Assertion, BadgeClass and Issuer Profile (OB 2.0 §Assertion…)."""
    problems = [p for p in [context_problem(assertion)] if p]
    problems += _missing(
        assertion, ("id", "type", "recipient", "badge", "verification", "issuedOn"), "Assertion"
    )
    if isinstance(assertion, dict) and "Assertion" not in types_of(assertion):
        problems.append("Assertion.type must be 'Assertion'")
    problems += _missing(
        badge, ("id", "type", "name", "description", "image", "criteria", "issuer"), "BadgeClass"
    )
    if isinstance(badge, dict) and "BadgeClass" not in types_of(badge):
        problems.append("BadgeClass.type must be 'BadgeClass'")
    problems += _missing(issuer, ("id", "type", "name", "url", "email"), "Issuer")
    if isinstance(issuer, dict) and not {"Issuer", "Profile"} & types_of(issuer):
        problems.append("Issuer.type must be 'Issuer' or 'Profile'")
    return problems


def verification_type(assertion: dict[str, Any]) -> str:
    """``hosted``, ``signed`` or ``""`` (``verification`` or its alias ``verify``)."""
    node = assertion.get("verification", assertion.get("verify"))
    kind = node.get("type") if isinstance(node, dict) else None
    if not isinstance(kind, str):  # a list or object is no verification type (nor hashable)
        return ""
    if kind in HOSTED:
        return "hosted"
    if kind in SIGNED:
        return "signed"
    return ""


def in_scope(url: str, issuer: dict[str, Any], *, starts_with: bool = True) -> bool:
    """Is ``url`` within the issuer's verification policy? ``allowedOrigins`` applies to the
    assertion and BadgeClass ids, ``startsWith`` to the assertion id only."""
    policy = issuer.get("verification")
    policy = policy if isinstance(policy, dict) else {}
    try:
        host = urlsplit(url).hostname or ""
        default = urlsplit(str(issuer.get("id", ""))).hostname or ""
    except ValueError:
        return False
    allowed = policy.get("allowedOrigins", [default])
    allowed = allowed if isinstance(allowed, list) else [allowed]
    if host.lower() not in {str(a).lower() for a in allowed}:
        return False
    starts = policy.get("startsWith")
    if starts is None or not starts_with:
        return True
    starts = starts if isinstance(starts, list) else [starts]
    return any(isinstance(s, str) and url.startswith(s) for s in starts)


def recipient_matches(typed_email: str, recipient: Any) -> bool:
    """Hash the typed address with the assertion's salt (``sha256$``/``md5$``, or plaintext)."""
    if not isinstance(recipient, dict) or recipient.get("type") != "email":
        return False
    identity = recipient.get("identity")
    if not isinstance(identity, str):
        return False
    candidates = {typed_email, typed_email.strip().lower()}
    if recipient.get("hashed") is not True:
        return identity.strip().lower() in {c.lower() for c in candidates}
    algorithm, _, digest = identity.partition("$")
    if algorithm.lower() not in ("sha256", "md5"):
        return False
    salt = recipient.get("salt") or ""
    return any(
        hmac.compare_digest(
            hashlib.new(algorithm.lower(), (c + str(salt)).encode("utf-8")).hexdigest(),
            digest.lower(),
        )
        for c in candidates
    )


def revocation_entry(revocation_list: Any, assertion: dict[str, Any]) -> tuple[bool, str]:
    """``(revoked, reason)`` for ``assertion`` in an OB 2.0 ``RevocationList``."""
    entries = (
        revocation_list.get("revokedAssertions", []) if isinstance(revocation_list, dict) else []
    )
    entries = entries if isinstance(entries, list) else [entries]
    for entry in entries:
        if isinstance(entry, str) and entry == assertion.get("id"):
            return True, ""
        if isinstance(entry, dict) and (
            (entry.get("id") is not None and entry.get("id") == assertion.get("id"))
            or (entry.get("uid") is not None and entry.get("uid") == assertion.get("uid"))
        ):
            return True, str(entry.get("revocationReason", ""))
    return False, ""


def verify_signed(token: str, public_key_pem: str) -> None:
    """Verify an OB 2.0 signed assertion: RS256 with an RSA key of ≥ 2048 bits only."""
    try:
        key = load_pem_public_key(public_key_pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        raise Ob2Error("bad_key", "the issuer's public key is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise Ob2Error("bad_key", "OB 2.0 signatures use RSA keys of at least 2048 bits")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Ob2Error("malformed", "not a compact JWS") from None
    if header.get("alg") != "RS256" or "crit" in header:
        raise Ob2Error("alg_not_allowed", f"JWS algorithm {header.get('alg')!r} is not accepted")
    try:
        jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise Ob2Error("bad_signature", "the signature does not match") from None
    except jwt.PyJWTError as error:
        raise Ob2Error("malformed", f"the JWS could not be verified: {error}") from None


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 date-time with a time zone (OB 2.0 ``DateTime``), else ``None``."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def date_problem(assertion: dict[str, Any], now: datetime) -> str:
    """``"not_yet_valid"``, ``"expired"``, ``"bad_date"`` or ``""`` from issuedOn/expires."""
    parse = parse_datetime
    issued = parse(assertion.get("issuedOn"))
    if issued is None:
        return "bad_date"
    if issued > now:
        return "not_yet_valid"
    if assertion.get("expires") is not None:
        expires = parse(assertion.get("expires"))
        if expires is None:
            return "bad_date"
        if expires <= now or expires < issued:
            return "expired"
    return ""
