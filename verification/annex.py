"""The EU micro-credential elements of a credential (``openbadges.microcredential``), in
words a reader understands, for the verify result, the public badge page and the PDF.

``claims_of`` keeps them as plain JSON values (what the verification report stores);
``rows`` turns those into labelled lines in the active language: "Workload: 150 hours
(6 ECTS credits)", "Level: EQF 5", "Assessment: Portfolio", "Identity verification: Yes,
supervised online". Codes this platform does not know are shown as written. They work for
any issuer's credential that names Insignia's context, not only this platform's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from openbadges import microcredential

ASSESSMENT: dict[str, Promise] = {
    "testing": gettext_lazy("Testing"),
    "skill_application": gettext_lazy("Application of a skill"),
    "portfolio": gettext_lazy("Portfolio"),
    "rpl": gettext_lazy("Recognition of prior learning"),
    "other": gettext_lazy("Other"),
}
PARTICIPATION: dict[str, Promise] = {
    "online": gettext_lazy("Online"),
    "onsite": gettext_lazy("On site"),
    "blended": gettext_lazy("Blended"),
    "work_based": gettext_lazy("Work-based"),
}
STACKABILITY: dict[str, Promise] = {
    "standalone": pgettext_lazy("stackability", "Nothing: it is a stand-alone credential"),
    "stackable": pgettext_lazy("stackability", "Other credentials: it counts towards a larger one"),
}
SUPERVISION: dict[str, Promise] = {
    "unsupervised_no_id": gettext_lazy("None: the assessment was not supervised"),
    "supervised_no_id": gettext_lazy("None, but the assessment was supervised"),
    "supervised_online_id": gettext_lazy("Yes: supervised online, identity checked"),
    "supervised_onsite_id": gettext_lazy("Yes: supervised on site, identity checked"),
}


@dataclass(frozen=True)
class Row:
    """One labelled line; ``items`` for a list (the learning outcomes)."""

    key: str
    label: str
    value: str = ""
    items: list[str] = field(default_factory=list)


def claims_of(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The elements of ``credential`` as plain JSON values (``{}`` without any)."""
    record = microcredential.read(credential)
    return data_of(record) if record is not None else {}


def data_of(record: microcredential.MicroCredentialRecord) -> dict[str, Any]:
    """``record`` as plain JSON values, the empty elements left out."""
    data = {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in asdict(record).items()
    }
    return {key: value for key, value in data.items() if value not in ("", None, [])}


def _number(value: float) -> str:
    amount = Decimal(str(value)).normalize()
    return number_format(f"{amount:f}", use_l10n=True)


def _coded(names: Mapping[str, Promise], code: Any) -> str:
    text = str(code or "")
    return str(names[text]) if text in names else text


def workload(hours: Any, credit_values: Any) -> str:
    """``150 hours (6 ECTS credits)``; either part alone when the other is missing."""
    credits = [
        f"{_number(c['amount'])} {c.get('unit') or c.get('system') or ''}".strip()
        for c in (credit_values or [])
        if isinstance(c, Mapping) and isinstance(c.get("amount"), int | float)
    ]
    if isinstance(hours, int | float) and not isinstance(hours, bool):
        text = _("%(hours)s hours") % {"hours": _number(hours)}
        if credits:
            text = _("%(hours)s (%(credits)s)") % {"hours": text, "credits": ", ".join(credits)}
        return text
    return ", ".join(credits)


def rows(data: Mapping[str, Any] | None) -> list[Row]:
    """The elements (from :func:`claims_of`) as labelled lines in the active language; an
    element the credential does not state is left out."""
    if not data:
        return []
    found = []
    outcomes = [str(text) for text in data.get("learning_outcomes") or []]
    if outcomes:
        found.append(Row("learning_outcomes", _("Learning outcomes"), items=outcomes))
    work = workload(data.get("notional_hours"), data.get("credit_values"))
    if work:
        found.append(Row("workload", _("Workload"), work))
    levels = [str(level) for level in data.get("levels") or []]
    if levels:
        found.append(Row("level", _("Level"), ", ".join(levels)))
    for key, label, names in (
        ("assessment_type", _("Assessment"), ASSESSMENT),
        ("participation", _("Participation"), PARTICIPATION),
        ("assessment_supervision", _("Identity verification"), SUPERVISION),
    ):
        if data.get(key):
            found.append(Row(key, label, _coded(names, data[key])))
    if data.get("stackability"):
        found.append(
            Row(
                "stackability",
                _("Can be combined with"),
                _coded(STACKABILITY, data["stackability"]),
            )
        )
    if data.get("quality_assurance"):
        found.append(Row("quality_assurance", _("Quality assurance"), data["quality_assurance"]))
    if data.get("prerequisites"):
        found.append(Row("prerequisites", _("Prerequisites"), data["prerequisites"]))
    return found
