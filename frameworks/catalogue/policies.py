"""Micro-credential policies checked against a version's placement (research §10).

The rules are rows of ``MicroCredentialPolicy``; this module only reads them (which policies
the institution chose) and checks a placement the caller has already fetched, so publishing or
awarding reads the placement once. An issue is *blocking* (the version cannot be published or
awarded) or a warning the editor should see. Policies apply to versions of type
``MicroCredential`` of an institution that chose them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from badges.models import AchievementType, AchievementVersion, VersionStatus
from frameworks.catalogue import selectors
from frameworks.models import MicroCredentialPolicy, Placement

REQUIRED_FIELDS: tuple[str, ...] = (
    "learning_outcomes",
    "workload",
    "assessment_type",
    "participation",
    "quality_assurance",
    "competency_alignment",
    "prerequisites",
    "stackability",
)


@dataclass(frozen=True)
class PolicyIssue:
    policy: str
    message: str
    blocking: bool = True

    def __str__(self) -> str:
        return _("%(policy)s: %(message)s") % {"policy": self.policy, "message": self.message}


def format_decimal(value: Decimal) -> str:
    """A credit amount or number of hours as people write it, without trailing zeros:
    ``Decimal("15.00")`` → ``"15"``, ``Decimal("7.50")`` → ``"7.5"``."""
    return f"{value.normalize():f}"


def _missing(field: str, placement: Placement | None) -> str | None:
    if placement is None:
        present = False
    elif field == "learning_outcomes":
        present = bool(placement.outcomes("en") or placement.outcomes("zh-Hans"))
    elif field == "workload":
        present = placement.notional_hours is not None or bool(placement.credits.all())
    elif field == "competency_alignment":
        present = bool(placement.competencies.all())
    else:
        present = bool(str(getattr(placement, field)).strip())
    if present:
        return None
    messages = {
        "learning_outcomes": _("List its learning outcomes."),
        "workload": _("State its workload in notional hours or credits."),
        "assessment_type": _("Say how learners are assessed."),
        "participation": _("Say how learners take part (online, on site, blended, work-based)."),
        "quality_assurance": _("Say how its quality is assured."),
        "competency_alignment": _("Align its outcomes to at least one competency or skill."),
        "prerequisites": _("State its prerequisites (or that there are none)."),
        "stackability": _("Say whether it stands alone or stacks towards a larger credential."),
    }
    return messages.get(field, _("Fill in %(field)s.") % {"field": field})


def _level_issues(policy: MicroCredentialPolicy, placement: Placement | None) -> list[PolicyIssue]:
    if not policy.level_required or policy.framework is None:
        return []
    placed = placement is not None and any(
        p.level.framework_id == policy.framework_id for p in placement.levels.all()
    )
    if placed:
        return []
    return [
        PolicyIssue(
            policy.name,
            _("Place it at a level of the %(framework)s.")
            % {"framework": policy.framework.short_name},
        )
    ]


def _credit_issues(policy: MicroCredentialPolicy, placement: Placement | None) -> list[PolicyIssue]:
    system = policy.credit_system
    if system is None:
        return []
    name = policy.name
    credit = None
    if placement is not None:
        credit = next((c for c in placement.credits.all() if c.credit_system_id == system.pk), None)
    if credit is None:
        if policy.min_credits is not None or policy.max_credits is not None:
            return [PolicyIssue(name, _("State its value in %(unit)s.") % {"unit": system.unit})]
        return []
    issues: list[PolicyIssue] = []
    amount = credit.amount
    if policy.whole_credits and amount != amount.to_integral_value():
        issues.append(
            PolicyIssue(
                name,
                _("Credits must be a whole number; this one is worth %(amount)s.")
                % {"amount": format_decimal(amount)},
            )
        )
    low, high = policy.min_credits, policy.max_credits
    if (low is not None and amount < low) or (high is not None and amount > high):
        issues.append(
            PolicyIssue(
                name,
                _(
                    "A micro-credential must be worth %(low)s to %(high)s %(unit)s; "
                    "this one is worth %(amount)s."
                )
                % {
                    "low": format_decimal(low) if low is not None else "0",
                    "high": format_decimal(high) if high is not None else "∞",
                    "unit": system.unit,
                    "amount": format_decimal(amount),
                },
            )
        )
    hours = placement.notional_hours if placement is not None else None
    if hours is not None and system.hours_per_unit_min and system.hours_per_unit_max:
        expected_low = amount * system.hours_per_unit_min
        expected_high = amount * system.hours_per_unit_max
        if not expected_low <= hours <= expected_high:
            expected = format_decimal(expected_low)
            if expected_high != expected_low:
                expected += "–" + format_decimal(expected_high)
            issues.append(
                PolicyIssue(
                    name,
                    _(
                        "%(hours)s notional hours do not match %(amount)s %(unit)s "
                        "(expected %(expected)s hours)."
                    )
                    % {
                        "hours": format_decimal(hours),
                        "amount": format_decimal(amount),
                        "unit": system.unit,
                        "expected": expected,
                    },
                    blocking=False,
                )
            )
    return issues


def _hours_issues(policy: MicroCredentialPolicy, placement: Placement | None) -> list[PolicyIssue]:
    if policy.min_hours is None:
        return []
    hours = placement.notional_hours if placement is not None else None
    if hours is not None and hours >= policy.min_hours:
        return []
    return [
        PolicyIssue(
            policy.name,
            _("State at least %(hours)s notional hours of learning.")
            % {"hours": format_decimal(policy.min_hours)},
        )
    ]


FIELD_NAMES = {
    "learning_outcomes": _lazy("learning outcomes"),
    "workload": _lazy("workload (hours or credits)"),
    "assessment_type": _lazy("type of assessment"),
    "participation": _lazy("form of participation"),
    "quality_assurance": _lazy("quality assurance"),
    "competency_alignment": _lazy("at least one competency or skill"),
    "prerequisites": _lazy("prerequisites"),
    "stackability": _lazy("stackability"),
}


def requirements(policy: MicroCredentialPolicy) -> list[str]:
    """What ``policy`` asks of a placement, as short phrases for a hint beside the form."""
    asks: list[str] = []
    if policy.level_required and policy.framework is not None:
        asks.append(_("a level of the %(framework)s") % {"framework": policy.framework.short_name})
    system = policy.credit_system
    if system is not None and (policy.min_credits is not None or policy.max_credits is not None):
        asks.append(
            _("%(low)s to %(high)s %(unit)s")
            % {
                "low": format_decimal(policy.min_credits)
                if policy.min_credits is not None
                else "0",
                "high": format_decimal(policy.max_credits)
                if policy.max_credits is not None
                else "∞",
                "unit": system.unit,
            }
        )
    if system is not None and policy.whole_credits:
        asks.append(_("whole %(unit)s") % {"unit": system.unit})
    if policy.min_hours is not None:
        asks.append(
            _("at least %(hours)s notional hours") % {"hours": format_decimal(policy.min_hours)}
        )
    asks.extend(str(FIELD_NAMES.get(str(f), f)) for f in policy.required_fields)
    return asks


def policies_for(version: AchievementVersion) -> list[tuple[MicroCredentialPolicy, list[str]]]:
    """The chosen policies that cover ``version``, each with what it asks."""
    chosen = scoped_policies(version.achievement.issuer.institution_id)
    return [(policy, requirements(policy)) for policy, scope in chosen if scope.covers(version)]


def check_policy(policy: MicroCredentialPolicy, placement: Placement | None) -> list[PolicyIssue]:
    """What ``placement`` lacks to meet ``policy``: level, credits, hours, required fields."""
    issues = [
        *_level_issues(policy, placement),
        *_credit_issues(policy, placement),
        *_hours_issues(policy, placement),
    ]
    for field in policy.required_fields:
        message = _missing(str(field), placement)
        if message:
            issues.append(PolicyIssue(policy.name, message))
    return issues


@dataclass(frozen=True)
class Scope:
    """Where a chosen policy applies: ``issuer_id`` ``None`` for every issuer;
    ``achievement_type`` empty for micro-credentials (the meaning of a choice without one)."""

    issuer_id: int | None = None
    achievement_type: str = ""

    def describe(self) -> str:
        """The scope in words for the audit log: ``issuer 3`` or ``type Course``."""
        if self.issuer_id is not None:
            return f"issuer {self.issuer_id}"
        return f"type {self.achievement_type}" if self.achievement_type else "institution"

    def covers(self, version: AchievementVersion) -> bool:
        kind = self.achievement_type or AchievementType.MICRO_CREDENTIAL
        if version.achievement_type != kind:
            return False
        return self.issuer_id is None or version.achievement.issuer_id == self.issuer_id


def scoped_policies(
    institution_id: int,
) -> list[tuple[MicroCredentialPolicy, Scope]]:
    """The institution's chosen policies, each with where it applies."""
    return [
        (choice.policy, Scope(choice.issuer_id, choice.achievement_type))
        for choice in selectors.policy_choices_by_id(institution_id)
    ]


def check_scoped(
    version: AchievementVersion,
    placement: Placement | None,
    chosen: Sequence[tuple[MicroCredentialPolicy, Scope]],
) -> list[PolicyIssue]:
    """Every issue the policies in ``chosen`` that cover ``version`` find with it."""
    issues: list[PolicyIssue] = []
    for policy, scope in chosen:
        if scope.covers(version):
            issues.extend(check_policy(policy, placement))
    return issues


def check_version(version: AchievementVersion, placement: Placement | None) -> list[PolicyIssue]:
    """Every issue the institution's chosen policies find with ``version``, placed as
    ``placement`` (``catalogue.selectors.placement_of(version)``)."""
    chosen = scoped_policies(version.achievement.issuer.institution_id)
    return check_scoped(version, placement, chosen)


def blocking_problems(version: AchievementVersion, placement: Placement | None) -> list[str]:
    """The blocking issues of ``version`` as sentences (publishing refuses the version with
    them)."""
    return [str(issue) for issue in check_version(version, placement) if issue.blocking]


def unmet_for(version: AchievementVersion) -> list[PolicyIssue]:
    """The blocking issues that stop ``version`` from being awarded now (reads its placement
    and the policies that cover it); empty when it may be awarded. For pages that show the
    block before anyone types: the award form, the bulk upload."""
    placement = selectors.placement_of(version)
    return [issue for issue in check_version(version, placement) if issue.blocking]


def check_award(version: AchievementVersion, placement: Placement | None) -> None:
    """Refuse an award of ``version`` that its institution's policies do not allow: they may
    have changed since the version was published, so every award checks them again."""
    problems = blocking_problems(version, placement)
    if problems:
        raise ValidationError(
            [_("This micro-credential does not meet your institution's policies."), *problems]
        )


@dataclass(frozen=True)
class Affected:
    """One achievement in an impact preview, with the issues that would block it."""

    version: AchievementVersion
    issues: tuple[PolicyIssue, ...]
    blocked_before: bool

    @property
    def newly_blocked(self) -> bool:
        return not self.blocked_before

    @property
    def published(self) -> bool:
        return self.version.status == VersionStatus.PUBLISHED


@dataclass(frozen=True)
class Impact:
    """What a change of policies or of a placement would block: of ``total`` achievements
    checked, the ``blocked`` ones (each saying whether it was blocked already) and those the
    change would unblock."""

    total: int
    blocked: tuple[Affected, ...]
    unblocked: tuple[AchievementVersion, ...]

    @property
    def newly_blocked(self) -> tuple[Affected, ...]:
        return tuple(a for a in self.blocked if a.newly_blocked)

    @property
    def published_newly_blocked(self) -> tuple[Affected, ...]:
        """Published achievements that could be awarded before and no longer could."""
        return tuple(a for a in self.newly_blocked if a.published)

    @property
    def changes_anything(self) -> bool:
        return bool(self.newly_blocked or self.unblocked)


def _blocking(issues: Sequence[PolicyIssue]) -> tuple[PolicyIssue, ...]:
    return tuple(issue for issue in issues if issue.blocking)


def policy_impact(
    institution_id: int, proposed: Sequence[tuple[MicroCredentialPolicy, Scope]]
) -> Impact:
    """What choosing ``proposed`` (instead of the current choices) would block among the
    institution's achievements (``selectors.versions_to_check``). Reads only."""
    current = scoped_policies(institution_id)
    versions = selectors.versions_to_check(institution_id)
    blocked: list[Affected] = []
    unblocked: list[AchievementVersion] = []
    for version in versions:
        placement = selectors.placement_or_none(version)
        before = _blocking(check_scoped(version, placement, current))
        after = _blocking(check_scoped(version, placement, proposed))
        if after:
            blocked.append(Affected(version, after, blocked_before=bool(before)))
        elif before:
            unblocked.append(version)
    return Impact(len(versions), tuple(blocked), tuple(unblocked))


def placement_impact(version: AchievementVersion, proposed: Placement | None) -> list[PolicyIssue]:
    """The blocking issues ``version`` would have with the placement ``proposed`` (an unsaved
    ``Placement`` is fine if its levels, credits and competencies are readable)."""
    return list(_blocking(check_version(version, proposed)))
