"""Micro-credential policies checked against a version's placement (research §10).

The rules are rows of ``MicroCredentialPolicy``; this module only reads them (which policies
the institution chose) and checks a placement the caller has already fetched, so publishing or
awarding reads the placement once. An issue is *blocking* (the version cannot be published or
awarded) or a warning the editor should see. Policies apply to versions of type
``MicroCredential`` of an institution that chose them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from badges.models import AchievementType, AchievementVersion
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
        return f"{self.policy}: {self.message}"


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


def check_version(version: AchievementVersion, placement: Placement | None) -> list[PolicyIssue]:
    """Every issue the institution's chosen policies find with ``version``, placed as
    ``placement`` (``catalogue.selectors.placement_of(version)``)."""
    if version.achievement_type != AchievementType.MICRO_CREDENTIAL:
        return []
    issues: list[PolicyIssue] = []
    for policy in selectors.policies_of(version.achievement.issuer.institution):
        issues.extend(check_policy(policy, placement))
    return issues


def blocking_problems(version: AchievementVersion, placement: Placement | None) -> list[str]:
    """The blocking issues of ``version`` as sentences (publishing refuses the version with
    them)."""
    return [str(issue) for issue in check_version(version, placement) if issue.blocking]


def check_award(version: AchievementVersion, placement: Placement | None) -> None:
    """Refuse an award of ``version`` that its institution's policies do not allow: they may
    have changed since the version was published, so every award checks them again."""
    problems = blocking_problems(version, placement)
    if problems:
        raise ValidationError(
            [_("This micro-credential does not meet your institution's policies."), *problems]
        )
