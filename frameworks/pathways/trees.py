"""A pathway's requirement tree as the editor describes it (:class:`GroupSpec`): read back from
the stored groups (:func:`spec_of`) and checked in words before it is stored
(:func:`check_tree`, research frameworks.md §10 "Pathways").

Kept apart from ``selectors`` (a learner's progress through the stored tree) because the
editor's form, its preview and the services all work on this unsaved description.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from badges import selectors as badge_selectors
from badges.models import Achievement, VersionStatus
from frameworks.catalogue.policies import format_decimal
from frameworks.models import (
    CreditSystem,
    FrameworkLevel,
    Pathway,
    Placement,
    Requirement,
    RequirementGroup,
)
from issuers.models import Institution

Rule = RequirementGroup.Rule

# A tree deeper than this is hard to read and to explain to a learner.
MAX_DEPTH = 4
MAX_GROUPS = 40


@dataclass
class GroupSpec:
    """A requirement group as an editor describes it: its rule, the micro-credentials it
    requires and its sub-groups."""

    rule: str
    achievements: Sequence[Achievement] = ()
    children: Sequence[GroupSpec] = ()
    required_count: int | None = None
    min_credits: Decimal | None = None
    credit_system: CreditSystem | None = None
    min_level: FrameworkLevel | None = None


@dataclass(frozen=True)
class TreeCheck:
    """What is wrong with a requirement tree (``errors`` block saving) and what is odd."""

    errors: list[str]
    warnings: list[str]


def achievement_name(achievement: Achievement, language: str | None = None) -> str:
    """The name of the achievement's latest version (published first) in ``language``."""
    versions = sorted(
        achievement.versions.all(),
        key=lambda v: (v.status == VersionStatus.PUBLISHED, v.number),
        reverse=True,
    )
    if not versions:
        return achievement.slug
    version = versions[0]
    lang = language or translation.get_language() or "en"
    first, second = ("zh", "en") if lang.lower().startswith("zh") else ("en", "zh")
    return (
        getattr(version, f"name_{first}") or getattr(version, f"name_{second}") or achievement.slug
    )


def group_number(path: tuple[int, ...]) -> str:
    """How a group is named in the editor and in messages: the top group, or "group 1.2"."""
    if not path:
        return _("The top group")
    return _("Group %(number)s") % {"number": ".".join(str(n + 1) for n in path)}


def walk(
    spec: GroupSpec, path: tuple[int, ...] = ()
) -> Iterator[tuple[tuple[int, ...], GroupSpec]]:
    yield path, spec
    for n, child in enumerate(spec.children):
        yield from walk(child, (*path, n))


def _available_credits(achievement: Achievement, group: GroupSpec) -> Decimal:
    version = badge_selectors.latest_published(achievement)
    if version is None or group.credit_system is None:
        return Decimal(0)
    found = (
        Placement.objects.filter(version=version)
        .prefetch_related("credits", "levels__level")
        .first()
    )
    if found is None:
        return Decimal(0)
    if group.min_level is not None and not any(
        p.level.framework_id == group.min_level.framework_id
        and p.level.ordinal >= group.min_level.ordinal
        for p in found.levels.all()
    ):
        return Decimal(0)
    return sum(
        (c.amount for c in found.credits.all() if c.credit_system_id == group.credit_system.pk),
        Decimal(0),
    )


def _rule_problems(spec: GroupSpec, where: str, items: int) -> tuple[list[str], list[str]]:
    """The problems of one group's rule and its numbers: (errors, warnings)."""
    errors: list[str] = []
    warnings: list[str] = []
    if spec.rule not in Rule.values:
        errors.append(_("%(where)s: choose a rule.") % {"where": where})
    elif spec.rule == Rule.AT_LEAST_N:
        n = spec.required_count
        if n is None or n < 1:
            errors.append(
                _("%(where)s: give how many of its items a learner needs (at least 1).")
                % {"where": where}
            )
        elif items and n > items:
            errors.append(
                ngettext(
                    "%(where)s: “at least %(n)s of” has only %(items)s item to choose from.",
                    "%(where)s: “at least %(n)s of” has only %(items)s items to choose from.",
                    items,
                )
                % {"where": where, "n": n, "items": items}
            )
    elif spec.rule == Rule.MIN_CREDITS:
        if spec.min_credits is None or spec.min_credits <= 0:
            errors.append(
                _("%(where)s: give the number of credits a learner needs (more than zero).")
                % {"where": where}
            )
        if spec.credit_system is None:
            errors.append(
                _("%(where)s: choose the credit system the credits are counted in.")
                % {"where": where}
            )
        if spec.min_credits and spec.credit_system is not None and not spec.children:
            available = sum((_available_credits(a, spec) for a in spec.achievements), Decimal(0))
            if available < spec.min_credits:
                warnings.append(
                    _(
                        "%(where)s: its published micro-credentials carry only "
                        "%(available)s %(unit)s at the level asked, fewer than the "
                        "%(wanted)s it needs."
                    )
                    % {
                        "where": where,
                        "available": format_decimal(available),
                        "unit": spec.credit_system.unit,
                        "wanted": format_decimal(spec.min_credits),
                    }
                )
    return errors, warnings


def _requirement_problems(
    spec: GroupSpec, where: str, institution: Institution, target: Achievement | None
) -> tuple[list[str], list[str]]:
    """The problems of one group's required micro-credentials: (errors, warnings)."""
    errors: list[str] = []
    warnings: list[str] = []
    for achievement in spec.achievements:
        if achievement.issuer.institution_id != institution.pk:
            errors.append(
                _(
                    "%(where)s: one of the micro-credentials belongs to another institution. "
                    "A pathway can only require your institution's micro-credentials."
                )
                % {"where": where}
            )
        elif target is not None and achievement.pk == target.pk:
            errors.append(
                _(
                    "“%(name)s” is the credential this pathway awards, so it cannot also be "
                    "one of its requirements."
                )
                % {"name": achievement_name(target)}
            )
        elif badge_selectors.latest_published(achievement) is None:
            warnings.append(
                _("“%(name)s” is not published yet, so nobody can hold it yet.")
                % {"name": achievement_name(achievement)}
            )
    return errors, warnings


def _target_problems(
    institution: Institution, target: Achievement | None
) -> tuple[list[str], list[str]]:
    if target is None:
        return [_("Choose the credential this pathway awards.")], []
    if target.issuer.institution_id != institution.pk:
        return [_("The credential a pathway awards must be one of your institution's.")], []
    if badge_selectors.latest_published(target) is None:
        warning = _(
            "“%(name)s” is not published yet: learners who complete the pathway get it "
            "once it is published and their next badge is awarded."
        ) % {"name": achievement_name(target)}
        return [], [warning]
    return [], []


def check_tree(root: GroupSpec, institution: Institution, target: Achievement | None) -> TreeCheck:
    """Every problem of the tree in words, naming the group it is in (research §10
    "Pathways"): empty groups, "at least N of" with fewer than N items, credit rules without
    credits or system, a requirement of another institution, the target required by itself,
    a micro-credential required twice, too deep a tree."""
    errors: list[str] = []
    warnings: list[str] = []
    nodes = list(walk(root))
    if len(nodes) > MAX_GROUPS:
        errors.append(
            _("A pathway can have at most %(n)s groups; simplify the tree.") % {"n": MAX_GROUPS}
        )
    seen: Counter[uuid.UUID] = Counter()
    for path, spec in nodes:
        where = group_number(path)
        items = len(spec.achievements) + len(spec.children)
        if len(path) >= MAX_DEPTH:
            errors.append(
                _("%(where)s: groups can be nested at most %(depth)s levels deep.")
                % {"where": where, "depth": MAX_DEPTH}
            )
        if items == 0:
            errors.append(
                _("%(where)s is empty: add a micro-credential or a group to it, or remove it.")
                % {"where": where}
            )
        for found_errors, found_warnings in (
            _rule_problems(spec, where, items),
            _requirement_problems(spec, where, institution, target),
        ):
            errors += found_errors
            warnings += found_warnings
        seen.update(a.pk for a in spec.achievements)
    for _path, spec in nodes:
        for achievement in spec.achievements:
            if seen[achievement.pk] > 1 and achievement.issuer.institution_id == institution.pk:
                seen[achievement.pk] = 0  # say it once
                errors.append(
                    _(
                        "“%(name)s” is required more than once; a badge counts only once in a "
                        "pathway."
                    )
                    % {"name": achievement_name(achievement)}
                )
    target_errors, target_warnings = _target_problems(institution, target)
    return TreeCheck(errors=errors + target_errors, warnings=warnings + target_warnings)


def spec_of(pathway: Pathway) -> GroupSpec:
    """The pathway's stored tree as the editor describes it."""
    groups = list(
        pathway.groups.select_related("credit_system", "min_level__framework").order_by(
            "position", "pk"
        )
    )
    requirements = (
        Requirement.objects.filter(group__pathway=pathway)
        .select_related("achievement__issuer")
        .prefetch_related("achievement__versions")
        .order_by("position", "pk")
    )
    leaves: dict[int, list[Achievement]] = {}
    for requirement in requirements:
        leaves.setdefault(requirement.group_id, []).append(requirement.achievement)
    children: dict[int | None, list[RequirementGroup]] = {}
    for group in groups:
        children.setdefault(group.parent_id, []).append(group)

    def build(group: RequirementGroup) -> GroupSpec:
        return GroupSpec(
            rule=group.rule,
            achievements=leaves.get(group.pk, []),
            children=[build(c) for c in children.get(group.pk, [])],
            required_count=group.required_count,
            min_credits=group.min_credits,
            credit_system=group.credit_system,
            min_level=group.min_level,
        )

    roots = children.get(None, [])
    return build(roots[0]) if roots else GroupSpec(rule=Rule.ALL)
