"""The EU micro-credential record (Council Recommendation 2022/C 243/02, Annex I) inside an
OB 3.0 ``Achievement``.

OB 3.0 has properties for some Annex I elements: the title (``name``), the awarding body and
its country (``issuer``), the date of issuing (``validFrom``), the learner
(``credentialSubject``), levels and skills (``alignment``), the credit value
(``creditsAvailable``) and a grade (``resultDescription`` / ``result``). The others are
``Achievement`` properties defined by Insignia's JSON-LD context
:data:`MICROCREDENTIAL_CONTEXT` (bundled as ``contexts/insignia_microcredential_v1.json`` and
served by every Insignia platform at ``/contexts/microcredential/v1``):

============================ =============================================================
``learningOutcomes``         the learning outcomes, one text each, in the credential's language
``notionalHours``            the notional workload in hours (a number)
``creditValue``              every credit value: ``creditSystem`` (a code such as ``ects``),
                             ``creditUnit`` (in words) and ``creditAmount`` (a number)
``qualificationLevel``       every level as short text (``EQF 5``); the levels' URIs are in
                             ``alignment``
``assessmentType``           :data:`ASSESSMENT_TYPES`
``assessmentSupervision``    :data:`SUPERVISION` (supervision and identity verification
                             during assessment)
``participation``            :data:`PARTICIPATION` (form of participation)
``qualityAssurance``         the type of quality assurance, as text
``prerequisites``            the prerequisites to enrol, as text
``stackability``             :data:`STACKABILITY` (integration / stackability options)
============================ =============================================================

Every term is defined (``@protected``) by the context, so RDFC canonicalisation signs them and
a safe-mode verifier (Digital Bazaar's) accepts them. :func:`read` gives the elements of any
credential that names the context, whoever issued it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from openbadges import jsonld

MICROCREDENTIAL_CONTEXT: Final = "https://w3id.org/insignia/microcredential/v1"
CONTEXT_FILE: Final = "insignia_microcredential_v1.json"

#: The codes each coded element takes (what the context documents); a reader shows an
#: unknown code as it is.
ASSESSMENT_TYPES: Final = ("testing", "skill_application", "portfolio", "rpl", "other")
SUPERVISION: Final = (
    "unsupervised_no_id",
    "supervised_no_id",
    "supervised_online_id",
    "supervised_onsite_id",
)
PARTICIPATION: Final = ("online", "onsite", "blended", "work_based")
STACKABILITY: Final = ("standalone", "stackable")


@dataclass(frozen=True, slots=True)
class CreditValue:
    """One credit value: its system's code, its unit in words and the amount."""

    system: str
    unit: str
    amount: float


@dataclass(frozen=True, slots=True)
class MicroCredentialRecord:
    """The Annex I elements OB 3.0 has no property for. Texts are in the credential's
    language; empty elements are omitted from the JSON."""

    learning_outcomes: Sequence[str] = ()
    notional_hours: float | None = None
    credit_values: Sequence[CreditValue] = ()
    levels: Sequence[str] = ()
    assessment_type: str = ""
    assessment_supervision: str = ""
    participation: str = ""
    quality_assurance: str = ""
    prerequisites: str = ""
    stackability: str = ""

    def __bool__(self) -> bool:
        return bool(microcredential_json(self))


@functools.cache
def context_bytes() -> bytes:
    """The context document exactly as bundled (and pinned in the manifest), to serve."""
    raw = (jsonld.CONTEXTS_DIR / CONTEXT_FILE).read_bytes()
    if json.loads(raw) != jsonld.load_context(MICROCREDENTIAL_CONTEXT):  # checks the pin
        raise jsonld.ContextIntegrityError(f"{CONTEXT_FILE} is not the pinned context")
    return raw


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def microcredential_json(record: MicroCredentialRecord) -> dict[str, Any]:
    """The elements as ``Achievement`` properties (empty ones omitted)."""
    hours = record.notional_hours
    found: dict[str, Any] = {
        "learningOutcomes": [text for text in record.learning_outcomes if text],
        "notionalHours": _number(hours) if hours is not None else None,
        "creditValue": [
            {
                "creditSystem": value.system,
                "creditUnit": value.unit,
                "creditAmount": _number(value.amount),
            }
            for value in record.credit_values
        ],
        "qualificationLevel": [level for level in record.levels if level],
        "assessmentType": record.assessment_type or None,
        "assessmentSupervision": record.assessment_supervision or None,
        "participation": record.participation or None,
        "qualityAssurance": record.quality_assurance or None,
        "prerequisites": record.prerequisites or None,
        "stackability": record.stackability or None,
    }
    return {key: value for key, value in found.items() if value is not None and value != []}


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items if isinstance(item, str | int | float) and str(item)]


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _credit_values(value: Any) -> list[CreditValue]:
    found = []
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, Mapping):
            continue
        amount = _number_or_none(item.get("creditAmount"))
        if amount is None:
            continue
        found.append(
            CreditValue(
                system=str(item.get("creditSystem") or ""),
                unit=str(item.get("creditUnit") or item.get("creditSystem") or ""),
                amount=amount,
            )
        )
    return found


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def read(credential: Mapping[str, Any]) -> MicroCredentialRecord | None:
    """The Annex I elements of a (verified) OB 3.0 credential that names
    :data:`MICROCREDENTIAL_CONTEXT`, or ``None``: without the context the same keys mean
    nothing defined, so they are not read."""
    contexts = credential.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    if MICROCREDENTIAL_CONTEXT not in contexts:
        return None
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    if not isinstance(achievement, Mapping):
        return None
    record = MicroCredentialRecord(
        learning_outcomes=tuple(_texts(achievement.get("learningOutcomes") or [])),
        notional_hours=_number_or_none(achievement.get("notionalHours")),
        credit_values=tuple(_credit_values(achievement.get("creditValue") or [])),
        levels=tuple(_texts(achievement.get("qualificationLevel") or [])),
        assessment_type=_text(achievement.get("assessmentType")),
        assessment_supervision=_text(achievement.get("assessmentSupervision")),
        participation=_text(achievement.get("participation")),
        quality_assurance=_text(achievement.get("qualityAssurance")),
        prerequisites=_text(achievement.get("prerequisites")),
        stackability=_text(achievement.get("stackability")),
    )
    return record if record else None
