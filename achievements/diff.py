"""What changed between two versions of an achievement, field by field, for people."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from badges.models import AchievementType, AchievementVersion

LABELS: dict[str, Promise] = {
    "name_en": _("Name (English)"),
    "name_zh": _("Name (Chinese)"),
    "description_en": _("Description (English)"),
    "description_zh": _("Description (Chinese)"),
    "criteria_en": _("Criteria (English)"),
    "criteria_zh": _("Criteria (Chinese)"),
    "evidence_required_en": _("Evidence required (English)"),
    "evidence_required_zh": _("Evidence required (Chinese)"),
    "achievement_type": _("Type"),
    "tags": _("Tags"),
    "validity_days": _("Valid for (days)"),
    "result_descriptions": _("Results"),
    "image": _("Image"),
}
LONG_TEXT = {
    "description_en",
    "description_zh",
    "criteria_en",
    "criteria_zh",
    "evidence_required_en",
    "evidence_required_zh",
}


@dataclass(frozen=True)
class Change:
    name: str
    label: str
    before: str
    after: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # (+|-| , text) for long text


def _show(version: AchievementVersion, name: str) -> str:
    value: Any = version.image_id if name == "image" else getattr(version, name)
    if name == "tags":
        return ", ".join(str(tag) for tag in value)
    if name == "achievement_type":
        return str(AchievementType(value).label) if value in AchievementType.values else str(value)
    if name == "result_descriptions":
        return "; ".join(
            f"{item.get('name_en') or item.get('name_zh')} ({item.get('result_type')}: "
            f"{', '.join(item.get('allowed_values', []))})"
            for item in value
        )
    if name == "image":
        return str(_("new image")) if value else ""
    return "" if value is None else str(value)


def changes(before: AchievementVersion, after: AchievementVersion) -> list[Change]:
    """Every content field that differs between ``before`` and ``after``."""
    found = []
    for name, label in LABELS.items():
        old, new = _show(before, name), _show(after, name)
        if name == "image" and before.image_id != after.image_id:
            old, new = str(_("previous image")) if before.image_id else "", new
        elif old == new:
            continue
        lines: list[tuple[str, str]] = []
        if name in LONG_TEXT:
            for line in difflib.ndiff(old.splitlines(), new.splitlines()):
                if line[:1] in {"+", "-", " "}:
                    lines.append((line[:1], line[2:]))
        found.append(Change(name, str(label), old, new, lines))
    return found
