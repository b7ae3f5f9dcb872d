"""Micro-credential policies checked against a version's placement (research §10).

The rules are rows of ``MicroCredentialPolicy``; this module only reads them. An issue is
*blocking* (the version cannot be published or awarded) or a warning the editor should see.
Policies apply to versions of type ``MicroCredential`` of an institution that chose them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from badges.models import AchievementType, AchievementVersion
from frameworks import selectors
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


def number(value: Decimal) -> str:
    """``Decimal("15.00")`` → ``"15"``, ``Decimal("7.50")`` → ``"7.5"``."""
    text = f"{value.normalize():f}"
    return text


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


def check_policy(policy: MicroCredentialPolicy, placement: Placement | None) -> list[PolicyIssue]:
    """What ``placement`` lacks to meet ``policy``."""
    name = policy.name
    issues: list[PolicyIssue] = []
    if policy.level_required and policy.framework is not None:
        placed = placement is not None and any(
            p.level.framework_id == policy.framework_id for p in placement.levels.all()
        )
        if not placed:
            issues.append(
                PolicyIssue(
                    name,
                    _("Place it at a level of the %(framework)s.")
                    % {"framework": policy.framework.short_name},
                )
            )
    system = policy.credit_system
    credit = None
    if system is not None and placement is not None:
        credit = next((c for c in placement.credits.all() if c.credit_system_id == system.pk), None)
    needs_credits = policy.min_credits is not None or policy.max_credits is not None
    if system is not None and needs_credits and credit is None:
        issues.append(PolicyIssue(name, _("State its value in %(unit)s.") % {"unit": system.unit}))
    if system is not None and credit is not None:
        amount = credit.amount
        if policy.whole_credits and amount != amount.to_integral_value():
            issues.append(
                PolicyIssue(
                    name,
                    _("Credits must be a whole number; this one is worth %(amount)s.")
                    % {"amount": number(amount)},
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
                        "low": number(low) if low is not None else "0",
                        "high": number(high) if high is not None else "∞",
                        "unit": system.unit,
                        "amount": number(amount),
                    },
                )
            )
        hours = placement.notional_hours if placement is not None else None
        if hours is not None and system.hours_per_unit_min and system.hours_per_unit_max:
            expected_low = amount * system.hours_per_unit_min
            expected_high = amount * system.hours_per_unit_max
            if not expected_low <= hours <= expected_high:
                expected = number(expected_low)
                if expected_high != expected_low:
                    expected += "–" + number(expected_high)
                issues.append(
                    PolicyIssue(
                        name,
                        _(
                            "%(hours)s notional hours do not match %(amount)s %(unit)s "
                            "(expected %(expected)s hours)."
                        )
                        % {
                            "hours": number(hours),
                            "amount": number(amount),
                            "unit": system.unit,
                            "expected": expected,
                        },
                        blocking=False,
                    )
                )
    if policy.min_hours is not None:
        hours = placement.notional_hours if placement is not None else None
        if hours is None or hours < policy.min_hours:
            issues.append(
                PolicyIssue(
                    name,
                    _("State at least %(hours)s notional hours of learning.")
                    % {"hours": number(policy.min_hours)},
                )
            )
    for field in policy.required_fields:
        message = _missing(str(field), placement)
        if message:
            issues.append(PolicyIssue(name, message))
    return issues


def check_version(version: AchievementVersion) -> list[PolicyIssue]:
    """Every issue the institution's chosen policies find with ``version``."""
    if version.achievement_type != AchievementType.MICRO_CREDENTIAL:
        return []
    policies = selectors.policies_of(version.achievement.issuer.institution)
    if not policies:
        return []
    placement = selectors.placement_of(version)
    issues: list[PolicyIssue] = []
    for policy in policies:
        issues.extend(check_policy(policy, placement))
    return issues


def blocking_problems(version: AchievementVersion) -> list[str]:
    """The blocking issues of ``version`` as sentences, for ``publish_problems``."""
    return [str(issue) for issue in check_version(version) if issue.blocking]
