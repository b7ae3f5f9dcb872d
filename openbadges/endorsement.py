"""OB 3.0 ``EndorsementCredential`` builder and reader (OB 3.0 §B.1.9, research §1.6).

An endorsement is a credential of its own: ``type`` ``["VerifiableCredential",
"EndorsementCredential"]``, the endorser's ``Profile`` as ``issuer``, and an
``EndorsementSubject`` whose ``id`` names what is endorsed (an issuer's ``Profile`` id or an
``Achievement`` id) with an optional ``endorsementComment``. It is signed like any credential
(:func:`openbadges.dataintegrity.sign`) and travels whole inside others: in a credential's
``endorsement``, its achievement's ``endorsement`` or its issuer profile's ``endorsement``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from openbadges import ob3

ENDORSEMENT_TYPE: Final = ("VerifiableCredential", "EndorsementCredential")
#: What an endorsed document may be: an issuer ``Profile`` or an ``Achievement``.
ENDORSABLE_TYPES: Final = ("Profile", "Achievement")


def build_endorsement(
    *,
    id: str,
    issuer: ob3.Profile,
    subject_id: str,
    name: str,
    comment: str | None,
    valid_from: datetime,
    credential_status: ob3.StatusEntry | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """An unsigned ``EndorsementCredential`` of ``subject_id`` by ``issuer``, with the
    strict schema's required fields (``@context``, ``type``, ``id``, ``name``,
    ``credentialSubject``, ``issuer``, ``validFrom``) and no nulls or empty arrays."""
    subject = {"id": subject_id, "type": ["EndorsementSubject"]}
    if comment:
        subject["endorsementComment"] = comment
    document: dict[str, Any] = {
        "@context": list(ob3.CREDENTIAL_CONTEXT),
        "id": id,
        "type": list(ENDORSEMENT_TYPE),
        "name": name,
        "issuer": ob3.profile_json(issuer),
        "validFrom": ob3.format_datetime(valid_from),
        "credentialSubject": subject,
    }
    if description:
        document["description"] = description
    if credential_status is not None:
        document["credentialStatus"] = ob3.status_json(credential_status)
    return document


def endorsable_kind(document: dict[str, Any]) -> str | None:
    """``"Profile"`` or ``"Achievement"`` when ``document`` is an OB 3.0 issuer profile or
    achievement (an ``id`` and the OB 3.0 context), else ``None``."""
    contexts = document.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    if not any(isinstance(c, str) and "/spec/ob/v3p0/" in c for c in contexts):
        return None
    if not isinstance(document.get("id"), str) or not document["id"]:
        return None
    kinds = document.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    for kind in ENDORSABLE_TYPES:
        if kind in kinds:
            return kind
    return None


def endorser_names(endorsements: Sequence[Any]) -> list[str]:
    """The endorsers' names (``issuer.name``, else its id) of the given credentials."""
    names = []
    for item in endorsements:
        issuer = item.get("issuer") if isinstance(item, dict) else None
        if isinstance(issuer, dict):
            names.append(str(issuer.get("name") or issuer.get("id") or ""))
        elif isinstance(issuer, str):
            names.append(issuer)
    return [n for n in names if n]
