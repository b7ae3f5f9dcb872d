"""Writes of the console's pathway editor (issue #7): a pathway's requirement tree checked in
words, created, edited and (de)activated.

Each write checks the actor's role (editors and owners of the institution), runs in one
transaction and leaves an audit row. A pathway has no versions: editing its tree changes the
rules for future completions only; existing completions, their credentials and signed records
are rows of their own and stay as they are (research frameworks.md §9.4).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from badges import services as badge_services
from badges.models import Achievement, VersionStatus
from frameworks import pathways
from frameworks.models import (
    Pathway,
    Placement,
    Requirement,
    RequirementGroup,
)
from frameworks.pathways import GroupSpec
from frameworks.policies import number
from issuers.models import AuditEvent, Institution, Role
from issuers.permissions import require_role

Rule = RequirementGroup.Rule

# A tree deeper than this is hard to read and to explain to a learner.
MAX_DEPTH = 4
MAX_GROUPS = 40


def _audit(*, institution: Institution, actor: User, action: str, target: str) -> None:
    AuditEvent.objects.create(
        institution=institution, actor=actor, action=action, target=target[:300], data={}
    )


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


@dataclass(frozen=True)
class TreeCheck:
    """What is wrong with a requirement tree (``errors`` block saving) and what is odd."""

    errors: list[str]
    warnings: list[str]


def _available_credits(achievement: Achievement, group: GroupSpec) -> Decimal:
    version = badge_services.latest_published(achievement)
    if version is None or group.credit_system is None:
        return Decimal(0)
    placement = Placement.objects.filter(version=version).prefetch_related(
        "credits", "levels__level"
    )
    found = placement.first()
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
                available = sum(
                    (_available_credits(a, spec) for a in spec.achievements), Decimal(0)
                )
                if available < spec.min_credits:
                    warnings.append(
                        _(
                            "%(where)s: its published micro-credentials carry only "
                            "%(available)s %(unit)s at the level asked, fewer than the "
                            "%(wanted)s it needs."
                        )
                        % {
                            "where": where,
                            "available": number(available),
                            "unit": spec.credit_system.unit,
                            "wanted": number(spec.min_credits),
                        }
                    )
        for achievement in spec.achievements:
            seen[achievement.pk] += 1
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
            elif badge_services.latest_published(achievement) is None:
                warnings.append(
                    _("“%(name)s” is not published yet, so nobody can hold it yet.")
                    % {"name": achievement_name(achievement)}
                )
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
    if target is None:
        errors.append(_("Choose the credential this pathway awards."))
    elif target.issuer.institution_id != institution.pk:
        errors.append(_("The credential a pathway awards must be one of your institution's."))
    elif badge_services.latest_published(target) is None:
        warnings.append(
            _(
                "“%(name)s” is not published yet: learners who complete the pathway get it "
                "once it is published and their next badge is awarded."
            )
            % {"name": achievement_name(target)}
        )
    return TreeCheck(errors=errors, warnings=warnings)


def _clean_spec(spec: GroupSpec) -> GroupSpec:
    """Keep only the values the rule uses, so the stored group says what it means."""
    return GroupSpec(
        rule=spec.rule,
        achievements=list(spec.achievements),
        children=[_clean_spec(c) for c in spec.children],
        required_count=spec.required_count if spec.rule == Rule.AT_LEAST_N else None,
        min_credits=spec.min_credits if spec.rule == Rule.MIN_CREDITS else None,
        credit_system=spec.credit_system if spec.rule == Rule.MIN_CREDITS else None,
        min_level=spec.min_level if spec.rule == Rule.MIN_CREDITS else None,
    )


def _refuse(check: TreeCheck, title_en: str, target: Achievement | None) -> Achievement:
    """Raise every problem in words; otherwise the target, which ``check_tree`` required."""
    errors = list(check.errors)
    if not title_en.strip():
        errors.insert(0, _("Give the pathway a name in English."))
    if errors or target is None:
        raise ValidationError(errors or _("Choose the credential this pathway awards."))
    return target


@transaction.atomic
def create_pathway(
    *,
    actor: User,
    institution: Institution,
    title_en: str,
    title_zh: str,
    target: Achievement | None,
    root: GroupSpec,
) -> Pathway:
    """Create a pathway from the tree built in the editor; every problem is reported in
    words (``ValidationError`` with one message per problem). Editors and owners."""
    require_role(actor, institution, Role.EDITOR)
    target = _refuse(check_tree(root, institution, target), title_en, target)
    pathway = pathways.create_pathway(
        actor=actor,
        institution=institution,
        title_en=title_en.strip(),
        title_zh=title_zh.strip(),
        target=target,
        root=_clean_spec(root),
    )
    _audit(institution=institution, actor=actor, action="pathway.created", target=pathway.title_en)
    return pathway


@transaction.atomic
def update_pathway(
    *,
    actor: User,
    pathway: Pathway,
    title_en: str,
    title_zh: str,
    target: Achievement | None,
    root: GroupSpec,
) -> Pathway:
    """Replace a pathway's name and requirement tree. Learners who completed it keep their
    completion, credential and signed record; the new tree applies to future completions.
    The credential it awards cannot change once it has been awarded. Editors and owners."""
    institution = pathway.institution
    require_role(actor, institution, Role.EDITOR)
    pathway = Pathway.objects.select_for_update().get(pk=pathway.pk)
    target = _refuse(check_tree(root, institution, target), title_en, target)
    completed = pathway.completions.count()
    if target.pk != pathway.target_id and completed:
        raise ValidationError(
            ngettext(
                "This pathway has been completed by %(n)s learner, so the credential it awards "
                "can no longer change. Deactivate it and create a new pathway instead.",
                "This pathway has been completed by %(n)s learners, so the credential it awards "
                "can no longer change. Deactivate it and create a new pathway instead.",
                completed,
            )
            % {"n": completed}
        )
    pathway.title_en = title_en.strip()
    pathway.title_zh = title_zh.strip()
    pathway.target = target
    pathway.save(update_fields=["title_en", "title_zh", "target"])
    # Groups and requirements are the rules only; completions do not point at them.
    RequirementGroup.objects.filter(pathway=pathway, parent__isnull=True).delete()
    pathways.create_group(pathway, _clean_spec(root), None, 0)
    _audit(institution=institution, actor=actor, action="pathway.updated", target=pathway.title_en)
    return pathway


@transaction.atomic
def set_pathway_active(*, actor: User, pathway: Pathway, active: bool) -> None:
    """Deactivate a pathway (no new completions; earlier ones stay) or activate it again."""
    require_role(actor, pathway.institution, Role.EDITOR)
    Pathway.objects.filter(pk=pathway.pk).update(is_active=active)
    pathway.is_active = active
    _audit(
        institution=pathway.institution,
        actor=actor,
        action="pathway.activated" if active else "pathway.deactivated",
        target=pathway.title_en,
    )


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
