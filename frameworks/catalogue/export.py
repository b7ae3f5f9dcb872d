"""A placement as OB 3.0 ``Achievement`` parts, and in words for people (research §11).

- level placements and competencies → ``alignment[]`` (OB 3.0 §B.2.1 ``Alignment``);
  ``targetType`` is ``CFItem`` for CASE items (the OB ``AlignmentTargetType`` enum has no
  value for ESCO skills or framework levels, so none is claimed for those);
- the primary credit value → ``creditsAvailable``; OB 3.0 gives it no unit, so the unit is
  stated in the description (research §12.4);
- the EU Annex I elements OB 3.0 has no property for (learning outcomes, workload, every
  credit value with its unit, levels in words, assessment, supervision and identity
  verification, participation, quality assurance, prerequisites, stackability) →
  :class:`openbadges.microcredential.MicroCredentialRecord`, written under Insignia's context.

``badges.credentials`` builds the ``Achievement`` from plain :class:`FrameworkFacts`; this module
computes those facts from a placement, so the badges app needs nothing from frameworks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from badges import credentials
from badges.credentials import FrameworkFacts
from badges.models import AchievementVersion
from frameworks.catalogue import selectors
from frameworks.catalogue.policies import format_decimal
from frameworks.models import CompetencyFramework, CompetencyItem, FrameworkLevel, Placement
from openbadges import microcredential, ob3


@dataclass
class PlacementSummary:
    """What a person reads about a placement, in one language."""

    levels: list[str] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)
    hours: str = ""
    skills: list[tuple[str, str]] = field(default_factory=list)  # (label, uri)
    outcomes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.levels or self.credits or self.hours or self.skills or self.outcomes)


def level_url(level: FrameworkLevel) -> str:
    """The level's own URI (EQF has them) or its anchor on our public framework page."""
    if level.uri:
        return level.uri
    path = reverse("framework_public", args=[level.framework.code])
    return f"{settings.INSIGNIA_BASE_URL}{path}#level-{level.code}"


def level_alignment(level: FrameworkLevel) -> ob3.Alignment:
    framework = level.framework
    return ob3.Alignment(
        target_name=f"{framework.short_name} {level.name_en}",
        target_url=level_url(level),
        target_code=level.code,
        target_framework=framework.name_en,
    )


def _target_type(framework: CompetencyFramework) -> str | None:
    return "CFItem" if framework.source == CompetencyFramework.Source.CASE else None


def _zh(language: str) -> bool:
    return language.lower().startswith("zh")


def item_label(item: CompetencyItem, language: str) -> str:
    """A competency's name in ``language``: the Chinese statement of a custom framework's item
    where it has one, else the item's own (imported frameworks keep their source's text)."""
    return (item.label_zh if _zh(language) else "") or item.label


def alignments(placement: Placement, language: str = "en") -> list[ob3.Alignment]:
    found = [level_alignment(p.level) for p in placement.levels.all()]
    for alignment in placement.competencies.all():
        item = alignment.item
        framework = item.framework
        found.append(
            ob3.Alignment(
                target_name=item_label(item, language),
                target_url=item.uri,
                target_code=item.code or None,
                target_description=item.statement or None,
                target_framework=(framework.title_zh if _zh(language) else "") or framework.title,
                target_type=_target_type(framework),
            )
        )
    return found


def summary(placement: Placement | None, language: str) -> PlacementSummary:
    """The placement in words in ``language`` (``en`` or ``zh-Hans``)."""
    if placement is None:
        return PlacementSummary()
    with translation.override("zh-hans" if _zh(language) else "en"):
        result = PlacementSummary(
            levels=[
                f"{p.level.framework.short_name} {p.level.name}" for p in placement.levels.all()
            ],
            credits=[
                f"{format_decimal(c.amount)} {c.credit_system.unit}"
                for c in placement.credits.all()
            ],
            hours=(
                _("%(hours)s notional hours") % {"hours": format_decimal(placement.notional_hours)}
                if placement.notional_hours is not None
                else ""
            ),
            skills=[
                (item_label(a.item, language), a.item.uri) for a in placement.competencies.all()
            ],
            outcomes=placement.outcomes(language),
        )
    return result


def description_note(placement: Placement, language: str) -> str:
    """One sentence naming level, credits (with their unit) and hours, for the description."""
    words = summary(placement, language)
    parts = []
    with translation.override("zh-hans" if _zh(language) else "en"):
        if words.levels:
            parts.append(_("Level: %(levels)s.") % {"levels": ", ".join(words.levels)})
        if words.credits:
            parts.append(_("Credits: %(credits)s.") % {"credits": ", ".join(words.credits)})
        if words.hours:
            parts.append(_("Workload: %(hours)s.") % {"hours": words.hours})
    return " ".join(parts)


def credits_available(placement: Placement | None) -> float | None:
    """The version's credit value (``creditsAvailable``): its primary credit, if it has one."""
    if placement is None:
        return None
    credits = list(placement.credits.all())
    primary = next((c for c in credits if c.is_primary), credits[0] if credits else None)
    return float(primary.amount) if primary else None


def level_words(level: FrameworkLevel) -> str:
    """A level as a short text in every language: ``EQF 5``."""
    return f"{level.framework.short_name} {level.code}"


def microcredential_record(
    placement: Placement, language: str
) -> microcredential.MicroCredentialRecord:
    """The placement's EU Annex I elements that OB 3.0 has no property for, in ``language``."""
    hours = placement.notional_hours
    return microcredential.MicroCredentialRecord(
        learning_outcomes=tuple(placement.outcomes(language)),
        notional_hours=float(hours) if hours is not None else None,
        credit_values=tuple(
            microcredential.CreditValue(
                system=c.credit_system.code,
                unit=(c.credit_system.unit_zh if _zh(language) else "") or c.credit_system.unit_en,
                amount=float(c.amount),
            )
            for c in placement.credits.all()
        ),
        levels=tuple(level_words(p.level) for p in placement.levels.all()),
        assessment_type=placement.assessment_type,
        assessment_supervision=placement.assessment_supervision,
        participation=placement.participation,
        quality_assurance=placement.quality_assurance.strip(),
        prerequisites=placement.prerequisites.strip(),
        stackability=placement.stackability,
    )


def framework_facts(placement: Placement | None, language: str) -> FrameworkFacts:
    """What ``placement`` adds to its version's OB 3.0 ``Achievement`` in ``language``; reads
    only what ``selectors.placement_of`` prefetched (no placement: no facts)."""
    if placement is None:
        return FrameworkFacts()
    return FrameworkFacts(
        alignments=tuple(alignments(placement, language)),
        credits_available=credits_available(placement),
        description_note=description_note(placement, language),
        microcredential=microcredential_record(placement, language) or None,
    )


def achievement(version: AchievementVersion, language: str) -> ob3.Achievement:
    """The OB 3.0 ``Achievement`` of ``version`` in ``language``, with its placement."""
    facts = framework_facts(selectors.placement_of(version), language)
    return credentials.achievement(version, language, facts)


def achievement_document(version: AchievementVersion, language: str) -> dict[str, Any]:
    """The JSON-LD ``Achievement`` served at the version's URL, with its placement."""
    return credentials.achievement_document(version, achievement(version, language))
