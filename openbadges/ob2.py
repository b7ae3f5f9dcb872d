"""Open Badges 2.0 hosted objects for legacy backpacks (research §5, DESIGN.md §5).

Plain data in, JSON-ready ``dict`` out: ``Assertion`` with ``verification.type`` ``hosted``,
``BadgeClass`` and ``Issuer``, all with the context ``https://w3id.org/openbadges/v2`` and
HTTP(S) ids on the issuer's origin (validator-core's default ``allowedOrigins`` is the host of
the issuer id). A revoked hosted assertion is answered with HTTP 410 and
:func:`revoked_assertion_json` (research §4.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

OB2_CONTEXT: Final = "https://w3id.org/openbadges/v2"
DATETIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"

JsonObject = dict[str, Any]


def _datetime(value: datetime) -> str:
    """ISO 8601 with a time zone (required for ``issuedOn``/``expires``), in UTC."""
    if value.tzinfo is None:
        raise ValueError("OB 2.0 dates need a time zone")
    return value.astimezone(UTC).strftime(DATETIME_FORMAT)


@dataclass(frozen=True, slots=True)
class Issuer:
    """OB 2.0 ``Issuer`` profile; ``name``, ``url`` and ``email`` are required of an issuer."""

    id: str
    name: str
    url: str
    email: str
    description: str | None = None
    image: str | None = None


@dataclass(frozen=True, slots=True)
class BadgeClass:
    """OB 2.0 ``BadgeClass``; ``criteria`` is given as a narrative (Markdown allowed)."""

    id: str
    name: str
    description: str
    image: str
    criteria_narrative: str
    issuer: str
    criteria_url: str | None = None
    tags: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    id: str | None = None
    narrative: str | None = None


@dataclass(frozen=True, slots=True)
class Assertion:
    """OB 2.0 hosted ``Assertion``: the recipient is a hashed ``IdentityObject``, of type
    ``email``; or, for an award made to an institutional identifier only, of the type its
    OB 3.0 credential names it with (``ext:studentId``, ``sourcedId``): OB 2.0 has no term
    for either."""

    id: str
    badge: str
    identity_hash: str
    salt: str
    issued_on: datetime
    expires: datetime | None = None
    image: str | None = None
    narrative: str | None = None
    evidence: Sequence[Evidence] = ()
    identity_type: str = "email"


def issuer_json(issuer: Issuer) -> JsonObject:
    document: JsonObject = {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": issuer.id,
        "name": issuer.name,
        "url": issuer.url,
        "email": issuer.email,
    }
    if issuer.description:
        document["description"] = issuer.description
    if issuer.image:
        document["image"] = issuer.image
    return document


def badge_class_json(badge: BadgeClass) -> JsonObject:
    criteria: JsonObject = {"narrative": badge.criteria_narrative}
    if badge.criteria_url:
        criteria["id"] = badge.criteria_url
    document: JsonObject = {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": badge.id,
        "name": badge.name,
        "description": badge.description,
        "image": badge.image,
        "criteria": criteria,
        "issuer": badge.issuer,
    }
    if badge.tags:
        document["tags"] = list(badge.tags)
    return document


def assertion_json(assertion: Assertion) -> JsonObject:
    """The hosted ``Assertion`` (OB 2.0 §Assertion): ``verification`` ``{"type": "hosted"}``."""
    document: JsonObject = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": assertion.id,
        "recipient": {
            "type": assertion.identity_type,
            "hashed": True,
            "salt": assertion.salt,
            "identity": assertion.identity_hash,
        },
        "badge": assertion.badge,
        "verification": {"type": "hosted"},
        "issuedOn": _datetime(assertion.issued_on),
    }
    if assertion.expires is not None:
        document["expires"] = _datetime(assertion.expires)
    if assertion.image:
        document["image"] = assertion.image
    if assertion.narrative:
        document["narrative"] = assertion.narrative
    evidence = [
        {
            "type": "Evidence",
            **({"id": e.id} if e.id else {}),
            **({"narrative": e.narrative} if e.narrative else {}),
        }
        for e in assertion.evidence
        if e.id or e.narrative
    ]
    if evidence:
        document["evidence"] = evidence
    return document


def revoked_assertion_json(assertion_id: str, reason: str = "") -> JsonObject:
    """The body of the HTTP 410 answer for a revoked hosted assertion (research §4.2)."""
    return {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": assertion_id,
        "revoked": True,
        "revocationReason": reason,
    }
