"""CLR 2.0 ``ClrCredential`` builder (DESIGN.md §5; research frameworks.md §6.2).

A ``ClrCredential`` bundles the learner's signed ``OpenBadgeCredential``s
(``credentialSubject.verifiableCredential``), the achievements they and the pathway stand for
(``credentialSubject.achievement``) and how they relate (``credentialSubject.association``,
e.g. each micro-credential ``isChildOf`` the pathway's achievement). Plain data in, a
JSON-ready ``dict`` out; sign it with :func:`openbadges.dataintegrity.sign`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from openbadges import ob3

CLR_CONTEXT: Final = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
#: CLR 2.0 §A.1: VC 2.0, then the CLR context, then the OB 3.0 context it builds on.
CLR_CREDENTIAL_CONTEXT: Final = (ob3.VC_CONTEXT_V2, CLR_CONTEXT, ob3.OB_CONTEXT)

#: CLR 2.0 ``AssociationType`` values used for stacking (CLR 2.0 §B.3.1).
ASSOCIATION_TYPES: Final = frozenset(
    {
        "exactMatchOf",
        "isChildOf",
        "isParentOf",
        "isPartOf",
        "isPeerOf",
        "isRelatedTo",
        "precedes",
        "replacedBy",
    }
)


@dataclass(frozen=True, slots=True)
class Association:
    """CLR 2.0 ``Association``: ``source`` relates to ``target`` by ``association_type``."""

    association_type: str
    source_id: str
    target_id: str


def association_json(association: Association) -> dict[str, Any]:
    """``Association`` object; its ``type`` is the string ``"Association"`` (CLR 2.0 §B.2.1)."""
    if association.association_type not in ASSOCIATION_TYPES:
        raise ValueError(f"unknown associationType {association.association_type!r}")
    return {
        "type": "Association",
        "associationType": association.association_type,
        "sourceId": association.source_id,
        "targetId": association.target_id,
    }


def _compact(obj: dict[str, Any]) -> dict[str, Any]:
    # OB/CLR serialization: "Null values and empty arrays MUST be omitted".
    return {k: v for k, v in obj.items() if v is not None and v != [] and v != ()}


def build_clr(
    *,
    id: str,
    issuer: ob3.Profile,
    name: str,
    recipient: ob3.Recipient,
    valid_from: datetime,
    credentials: Sequence[dict[str, Any]],
    achievements: Sequence[ob3.Achievement] = (),
    associations: Sequence[Association] = (),
    description: str | None = None,
    partial: bool | None = None,
) -> dict[str, Any]:
    """Build an unsigned CLR 2.0 ``ClrCredential`` around already signed credentials.

    The embedded credentials are included byte-for-byte as parsed JSON, proofs and all, so
    each stays verifiable on its own (CLR 2.0 §8). The learner is identified the same way as
    in OB 3.0: a salted SHA-256 of the normalized e-mail and/or institutional identifier.
    """
    if not credentials:
        raise ValueError("a ClrCredential holds at least one credential")
    subject = _compact(
        {
            "id": recipient.did,
            "type": ["ClrSubject"],
            "identifier": ob3.recipient_identities(recipient),
            "achievement": [ob3.achievement_json(a) for a in achievements],
            "verifiableCredential": list(credentials),
            "association": [association_json(a) for a in associations],
        }
    )
    return _compact(
        {
            "@context": [
                *CLR_CREDENTIAL_CONTEXT,
                # the achievements' EU micro-credential elements are defined there
                *(
                    [ob3.MICROCREDENTIAL_CONTEXT]
                    if any(a.microcredential for a in achievements)
                    else []
                ),
            ],
            "id": id,
            "type": ["VerifiableCredential", "ClrCredential"],
            "name": name,
            "description": description,
            "partial": partial,
            "issuer": ob3.profile_json(issuer),
            "validFrom": ob3.format_datetime(valid_from),
            "credentialSubject": subject,
        }
    )
