"""What changed between two versions of an achievement, for people, computed from what is
published for each version.

A version publishes its OB 3.0 ``Achievement`` in English and in Chinese (the JSON-LD served
at ``/achievements/<id>/v/<n>``) and, beside it, what the public page and the placement API
state: evidence required, validity, notional hours, every credit value and the EU Annex I
elements. ``published`` flattens all of it into one record per version and ``changes``
compares two records key by key, so a field added to the published document shows up in the
history without anyone listing it here. Only what does not describe the version itself is left
out (``NOT_COMPARED``). Known keys get a label in the reader's language; an unknown key is
shown as readable words (``fieldOfStudy`` → "Field of study").

A key whose change is the same in both languages is shown once; a change to one language's
text is shown with that language named.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from badges import credentials
from badges.models import AchievementType, AchievementVersion
from frameworks.catalogue import export, selectors
from frameworks.catalogue.policies import format_decimal
from frameworks.models import (
    AssessmentType,
    Participation,
    Placement,
    Stackability,
    Supervision,
)
from openbadges import ob3

LANGUAGES: tuple[str, ...] = ("en", "zh-Hans")
NEUTRAL = ""  # the "language" of a key stated once for both

#: Keys of the published ``Achievement`` that do not describe the version: the JSON-LD
#: context and type, its own URL and number, the document's language, the issuer's profile
#: (an issuer change is not a version change), ``creditsAvailable`` and ``creditValue``
#: (every credit value, the primary one first, is compared as ``credits``) and
#: ``qualificationLevel`` (the levels are compared in ``alignment``).
NOT_COMPARED: frozenset[str] = frozenset(
    {
        "@context",
        "type",
        "id",
        "version",
        "inLanguage",
        "creator",
        "creditsAvailable",
        "creditValue",
        "qualificationLevel",
    }
)

LABELS: dict[str, Promise] = {
    "name": gettext_lazy("Name"),
    "description": gettext_lazy("Description"),
    "criteria.narrative": gettext_lazy("Criteria"),
    "criteria": gettext_lazy("Criteria"),
    "evidenceRequired": gettext_lazy("Evidence required"),
    "achievementType": gettext_lazy("Type"),
    "tag": gettext_lazy("Tags"),
    "image": gettext_lazy("Image"),
    "image.id": gettext_lazy("Image"),
    "image.caption": gettext_lazy("Image description"),
    "alignment": gettext_lazy("Levels, competencies and skills"),
    "resultDescription": gettext_lazy("Results"),
    "humanCode": gettext_lazy("Code"),
    "fieldOfStudy": gettext_lazy("Field of study"),
    "specialization": gettext_lazy("Specialisation"),
    "validityDays": gettext_lazy("Valid for"),
    "credits": gettext_lazy("Credits"),
    "notionalHours": gettext_lazy("Notional learning hours"),
    "learningOutcomes": gettext_lazy("Learning outcomes"),
    "assessmentType": gettext_lazy("Type of assessment"),
    "assessmentSupervision": gettext_lazy("Supervision and identity verification"),
    "participation": gettext_lazy("Form of participation"),
    "qualityAssurance": gettext_lazy("Quality assurance"),
    "prerequisites": gettext_lazy("Prerequisites"),
    "stackability": gettext_lazy("Stackability"),
}
LONG_TEXT = frozenset(
    {"description", "criteria.narrative", "evidenceRequired", "prerequisites", "qualityAssurance"}
)
LANGUAGE_NAMES: dict[str, Promise] = {
    "en": gettext_lazy("English"),
    "zh-Hans": gettext_lazy("Chinese"),
}

Record = dict[tuple[str, str], Any]  # (key, language or NEUTRAL) → published value


@dataclass(frozen=True)
class Change:
    name: str
    label: str
    before: str
    after: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # (+|-| , text)


# --------------------------------------------------------------------------------------------
# What is published
# --------------------------------------------------------------------------------------------


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            flat.update(_flatten(item, f"{name}."))
        else:
            flat[name] = item
    return flat


def _relative(value: Any, base: str) -> Any:
    """``value`` with the version's own URL taken out of every string (a result description's
    ``id`` is ``<version URL>#…``), so that only what the version says is compared."""
    if isinstance(value, str):
        return value.replace(base, "") if base in value else value
    if isinstance(value, Mapping):
        return {key: _relative(item, base) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_relative(item, base) for item in value]
    return value


def _beside(version: AchievementVersion, placement: Placement | None) -> dict[str, Any]:
    """What is published beside the ``Achievement``, the same in both languages."""
    facts: dict[str, Any] = {"validityDays": version.validity_days}
    if placement is None:
        return facts
    facts.update(
        credits=[
            [
                c.credit_system.code,
                format_decimal(c.amount),
                c.credit_system.unit_en,
                c.credit_system.unit_zh,
            ]
            for c in placement.credits.all()
        ],
        notionalHours=(
            format_decimal(placement.notional_hours)
            if placement.notional_hours is not None
            else None
        ),
        assessmentType=placement.assessment_type,
        participation=placement.participation,
        qualityAssurance=placement.quality_assurance,
        prerequisites=placement.prerequisites,
        stackability=placement.stackability,
    )
    return facts


def published(version: AchievementVersion, placement: Placement | None) -> Record:
    """Everything published for ``version`` (placed as ``placement``, from
    ``catalogue.selectors.placement_of``), flattened: ``(key, language)`` → value."""
    record: Record = {}
    for language in LANGUAGES:
        facts = export.framework_facts(placement, language)
        document = dict(ob3.achievement_json(credentials.achievement(version, language, facts)))
        document = _relative(document, credentials.version_url(version))
        note = f"\n\n{facts.description_note}" if facts.description_note else ""
        description = document.get("description", "")
        if note and description.endswith(note):  # levels, credits, hours: compared themselves
            document["description"] = description[: -len(note)]
        document["evidenceRequired"] = version.text("evidence_required", language)
        outcomes_field = "outcomes_zh" if language == "zh-Hans" else "outcomes_en"
        document["learningOutcomes"] = (
            [
                line.strip()
                for line in getattr(placement, outcomes_field).splitlines()
                if line.strip()
            ]
            if placement is not None
            else []
        )
        for key, value in _flatten(document).items():
            if key.split(".")[0] not in NOT_COMPARED and value not in ("", [], None):
                record[(key, language)] = value
    for key, value in _beside(version, placement).items():
        if value not in ("", [], None):
            record[(key, NEUTRAL)] = value
    return record


# --------------------------------------------------------------------------------------------
# For people
# --------------------------------------------------------------------------------------------


def _words(key: str) -> str:
    """A readable name for a key without a label: ``fieldOfStudy`` → "Field of study"."""
    parts = []
    for part in key.split("."):
        spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[_-]+", " ", part).strip().lower()
        parts.append(spaced[:1].upper() + spaced[1:])
    return " › ".join(parts)


def label(key: str, language: str = NEUTRAL) -> str:
    """The label of a published key, with the language named for one language's text."""
    known = LABELS.get(key)
    text = str(known) if known is not None else _words(key)
    if language:
        return _("%(field)s (%(language)s)") % {
            "field": text,
            "language": LANGUAGE_NAMES.get(language, language),
        }
    return text


def _credits(value: list[list[str]]) -> list[str]:
    """Credit values as ``[code, amount, unit in English, unit in Chinese]``, in words."""
    chinese = get_language().lower().startswith("zh")
    return [
        f"{amount} {(unit_zh if chinese else '') or unit_en}"
        for _c, amount, unit_en, unit_zh in value
    ]


def _choice(choices: Any) -> Callable[[Any], str]:
    def show(value: Any) -> str:
        return str(choices(value).label) if value in choices.values else str(value)

    return show


def _days(value: Any) -> str:
    return ngettext("%(days)s day", "%(days)s days", int(value)) % {"days": value}


SHOW: dict[str, Callable[[Any], str]] = {
    "achievementType": _choice(AchievementType),
    "assessmentType": _choice(AssessmentType),
    "assessmentSupervision": _choice(Supervision),
    "participation": _choice(Participation),
    "stackability": _choice(Stackability),
    "validityDays": _days,
}


def _item(key: str, item: Any) -> str:
    """One element of a published list, in words."""
    if isinstance(item, Mapping):
        if key == "alignment":
            name = str(item.get("targetName", ""))
            framework = item.get("targetFramework")
            return f"{name} ({framework})" if framework else name
        if key == "resultDescription":
            values = item.get("allowedValue") or []
            kind = str(item.get("resultType", ""))
            return f"{item.get('name', '')} ({kind}{': ' + ', '.join(values) if values else ''})"
        for name_key in ("name", "targetName", "id"):
            if item.get(name_key):
                return str(item[name_key])
        return json.dumps(item, ensure_ascii=False, sort_keys=True)
    return str(item)


def _change(key: str, language: str, before: Any, after: Any) -> Change:
    name = f"{key}@{language}" if language else key
    text = label(key, language)
    if key == "credits":
        old, new = _credits(before or []), _credits(after or [])
        return Change(name, text, ", ".join(old), ", ".join(new))
    if key in ("image.id", "image"):
        return Change(
            name,
            text,
            _("previous image") if before else "",
            _("new image") if after else _("no image"),
        )
    if isinstance(before or after, list):
        old_items = [_item(key, i) for i in before or []]
        new_items = [_item(key, i) for i in after or []]
        lines = [("-", i) for i in old_items if i not in new_items]
        lines += [("+", i) for i in new_items if i not in old_items]
        if not lines:  # the same elements in another order
            lines = [("-", "; ".join(old_items)), ("+", "; ".join(new_items))]
        return Change(name, text, "; ".join(old_items), "; ".join(new_items), lines)
    show = SHOW.get(key, lambda v: "" if v is None else str(v))
    old_text = show(before) if before is not None else ""
    new_text = show(after) if after is not None else ""
    lines = []
    if key in LONG_TEXT:
        for line in difflib.ndiff(old_text.splitlines(), new_text.splitlines()):
            if line[:1] in {"+", "-", " "}:
                lines.append((line[:1], line[2:]))
    return Change(name, text, old_text, new_text, lines)


def _order(key: str) -> tuple[int, str]:
    known = list(LABELS)
    return (known.index(key) if key in known else len(known), key)


def compare(before: Record, after: Record) -> list[Change]:
    """Every published key whose value differs, once for both languages when the change is
    the same in both."""
    keys = sorted({k for k, _l in (*before, *after)}, key=_order)
    found: list[Change] = []
    for key in keys:
        pairs = {
            language: (before.get((key, language)), after.get((key, language)))
            for language in (NEUTRAL, *LANGUAGES)
            if (key, language) in before or (key, language) in after
        }
        changed = {lang: pair for lang, pair in pairs.items() if pair[0] != pair[1]}
        if not changed:
            continue
        per_language = [lang for lang in LANGUAGES if lang in pairs]
        same = (
            len(per_language) == len(LANGUAGES)
            and all(lang in changed for lang in LANGUAGES)
            and len({json.dumps(pairs[lang], sort_keys=True, default=str) for lang in LANGUAGES})
            == 1
        )
        if same:
            old, new = pairs[LANGUAGES[0]]
            found.append(_change(key, NEUTRAL, old, new))
            continue
        for language, (old, new) in changed.items():
            found.append(_change(key, language, old, new))
    return found


def version_history(versions: Sequence[AchievementVersion]) -> list[list[Change]]:
    """For each of ``versions`` (in number order), what changed since the one before it (the
    first: nothing); the placements are read once for all of them."""
    placements = selectors.placements_of(versions)
    records = [published(v, placements[v.pk]) for v in versions]
    return [compare(records[n - 1], record) if n else [] for n, record in enumerate(records)]


def changes(
    before: AchievementVersion,
    after: AchievementVersion,
    placements: Mapping[int, Placement | None] | None = None,
) -> list[Change]:
    """Every published field that differs between ``before`` and ``after``; ``placements``
    (by version id) saves reading them again."""

    def placed(version: AchievementVersion) -> Placement | None:
        if placements is not None and version.pk in placements:
            return placements[version.pk]
        return selectors.placement_of(version)

    return compare(published(before, placed(before)), published(after, placed(after)))
