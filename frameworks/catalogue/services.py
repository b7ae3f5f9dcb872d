"""Every write to the catalogue: where a version sits (its placement), which policies an
institution applies, and the reference data. Each write checks the actor's role
(``issuers.permissions``) and leaves an audit row, except the two that have no actor of their
own: ``copy_placement`` (part of saving a draft, audited there) and ``load_reference_data``
(platform data, loaded by an operator's command).

Placements change only while their version is a draft; publishing freezes them with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from badges.models import AchievementVersion, VersionStatus
from frameworks.catalogue import policies, reference_data, selectors
from frameworks.catalogue.policies import PolicyIssue, Scope
from frameworks.competencies import selectors as competency_selectors
from frameworks.models import (
    CompetencyAlignment,
    CompetencyItem,
    CreditConversion,
    CreditSystem,
    CreditValue,
    FrameworkLevel,
    LevelPlacement,
    MicroCredentialPolicy,
    Placement,
    PolicyChoice,
    QualificationsFramework,
)
from issuers.models import AuditAction, Institution, Role
from issuers.permissions import require_role
from issuers.services import record_audit

PLACEMENT_FIELDS: tuple[str, ...] = (
    "notional_hours",
    "outcomes_en",
    "outcomes_zh",
    "assessment_type",
    "assessment_supervision",
    "participation",
    "quality_assurance",
    "prerequisites",
    "stackability",
)


@dataclass(frozen=True)
class Credit:
    """A credit value as an editor gives it: an amount in a credit system."""

    system: CreditSystem
    amount: Decimal


def _check_levels(institution: Institution, levels: Sequence[FrameworkLevel]) -> None:
    frameworks_seen: set[int] = set()
    allowed = set(selectors.levels(institution).values_list("pk", flat=True))
    for level in levels:
        if level.pk not in allowed:
            raise ValidationError({"levels": _("Choose a level of an available framework.")})
        if level.framework_id in frameworks_seen:
            raise ValidationError({"levels": _("Choose one level per framework.")})
        frameworks_seen.add(level.framework_id)


def _check_credits(credits: Sequence[Credit]) -> None:
    systems_seen: set[int] = set()
    for credit in credits:
        if credit.amount <= 0:
            raise ValidationError({"credits": _("Credits must be more than zero.")})
        if credit.system.pk in systems_seen:
            raise ValidationError({"credits": _("Give one value per credit system.")})
        systems_seen.add(credit.system.pk)
        places = -int(credit.amount.normalize().as_tuple().exponent)
        if places > credit.system.decimal_places:
            raise ValidationError(
                {
                    "credits": _("%(unit)s allow %(places)s decimal places.")
                    % {"unit": credit.system.unit, "places": credit.system.decimal_places}
                }
            )


def _check_competencies(institution: Institution, competencies: Sequence[CompetencyItem]) -> None:
    allowed = set(
        competency_selectors.competency_items(institution)
        .filter(pk__in=[c.pk for c in competencies])
        .values_list("pk", flat=True)
    )
    if any(item.pk not in allowed for item in competencies):
        raise ValidationError({"competencies": _("Choose competencies of your frameworks.")})


@transaction.atomic
def save_placement(
    *,
    actor: User,
    version: AchievementVersion,
    levels: Sequence[FrameworkLevel] = (),
    credits: Sequence[Credit] = (),
    competencies: Sequence[CompetencyItem] = (),
    **fields: object,
) -> Placement:
    """Set where a draft version sits: levels (one per framework), credits (the first is the
    primary value the credential states), hours, outcomes, EU Annex I descriptors and
    competency alignments. Editors and owners of the version's issuer."""
    issuer = version.achievement.issuer
    institution = issuer.institution
    require_role(actor, institution, Role.EDITOR, issuer)
    version = AchievementVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(_("A published version is frozen; edit it to start a new one."))
    unknown = set(fields) - set(PLACEMENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown placement fields: {sorted(unknown)}")
    _check_levels(institution, levels)
    _check_credits(credits)
    _check_competencies(institution, competencies)
    placement, _created = Placement.objects.get_or_create(version=version)
    for name, value in fields.items():
        setattr(placement, name, value)
    placement.full_clean(exclude=["version"])
    placement.save()
    placement.levels.all().delete()
    LevelPlacement.objects.bulk_create(
        LevelPlacement(placement=placement, level=level) for level in levels
    )
    placement.credits.all().delete()
    CreditValue.objects.bulk_create(
        CreditValue(placement=placement, credit_system=c.system, amount=c.amount, is_primary=n == 0)
        for n, c in enumerate(credits)
    )
    placement.competencies.all().delete()
    CompetencyAlignment.objects.bulk_create(
        CompetencyAlignment(placement=placement, item=item, position=n)
        for n, item in enumerate(competencies)
    )
    record_audit(
        institution_id=institution.pk,
        actor=actor,
        action=AuditAction.PLACEMENT_SAVED,
        target=f"{version.achievement} v{version.number}",
    )
    return placement


@transaction.atomic
def copy_placement(*, source: AchievementVersion, target: AchievementVersion) -> None:
    """Give a new draft the placement of the version it was started from. Called by
    ``achievements.services`` inside the transaction that saves the draft (which checks the
    role and writes the audit row); a draft that already has a placement keeps it."""
    old = selectors.placement_of(source)
    if old is None or Placement.objects.filter(version=target).exists():
        return
    new = Placement.objects.create(
        version=target, **{name: getattr(old, name) for name in PLACEMENT_FIELDS}
    )
    LevelPlacement.objects.bulk_create(
        LevelPlacement(placement=new, level=p.level) for p in old.levels.all()
    )
    CreditValue.objects.bulk_create(
        CreditValue(
            placement=new,
            credit_system=c.credit_system,
            amount=c.amount,
            is_primary=c.is_primary,
            derived_via=c.derived_via,
        )
        for c in old.credits.all()
    )
    CompetencyAlignment.objects.bulk_create(
        CompetencyAlignment(placement=new, item=a.item, position=a.position)
        for a in old.competencies.all()
    )


@transaction.atomic(durable=True)
def choose_policies(
    *,
    actor: User,
    institution: Institution,
    chosen: Sequence[MicroCredentialPolicy | tuple[MicroCredentialPolicy, Scope]],
) -> None:
    """Set which micro-credential policies apply to the institution, each with its scope
    (a bare policy: every micro-credential of the institution). Owners only."""
    require_role(actor, institution, Role.OWNER)
    allowed = set(selectors.policies_available(institution).values_list("pk", flat=True))
    issuers = set(institution.issuers.values_list("pk", flat=True))
    wanted: dict[int, Scope] = {}
    for entry in chosen:
        policy, scope = entry if isinstance(entry, tuple) else (entry, Scope())
        if policy.pk not in allowed:
            continue
        if scope.issuer_id is not None and scope.issuer_id not in issuers:
            raise ValidationError(_("Choose one of your institution's issuers."))
        wanted[policy.pk] = scope
    PolicyChoice.objects.filter(institution=institution).exclude(policy_id__in=wanted).delete()
    for pk in sorted(wanted):
        scope = wanted[pk]
        PolicyChoice.objects.update_or_create(
            institution=institution,
            policy_id=pk,
            defaults={"issuer_id": scope.issuer_id, "achievement_type": scope.achievement_type},
            create_defaults={
                "issuer_id": scope.issuer_id,
                "achievement_type": scope.achievement_type,
                "chosen_by": actor,
            },
        )
    codes = dict(MicroCredentialPolicy.objects.filter(pk__in=wanted).values_list("pk", "code"))
    record_audit(
        institution_id=institution.pk,
        actor=actor,
        action=AuditAction.POLICIES_CHOSEN,
        target=", ".join(
            codes[pk] + (f" ({wanted[pk].describe()})" if wanted[pk] != Scope() else "")
            for pk in sorted(wanted, key=lambda p: codes[p])
        )
        or "-",
    )


@transaction.atomic
def check_placement(
    *,
    actor: User,
    version: AchievementVersion,
    levels: Sequence[FrameworkLevel] = (),
    credits: Sequence[Credit] = (),
    competencies: Sequence[CompetencyItem] = (),
    **fields: object,
) -> list[PolicyIssue]:
    """What the institution's policies would find with the draft ``version`` placed as given,
    without saving anything (the placement is saved and rolled back): the check before a
    save, and the impact a save would have. Raises ``ValidationError`` as ``save_placement``
    does."""
    placement = save_placement(
        actor=actor,
        version=version,
        levels=levels,
        credits=credits,
        competencies=competencies,
        **fields,
    )
    issues = policies.check_version(version, selectors.placement_of(placement.version))
    transaction.set_rollback(True)
    return issues


@transaction.atomic
def load_reference_data() -> None:
    """Create or update the reference frameworks, levels, credit systems, conversion rules
    and policies of ``reference_data``; idempotent, keyed on codes."""
    systems = {}
    for row in reference_data.CREDIT_SYSTEMS:
        data = dict(row)
        code = data.pop("code")
        systems[code], _ = CreditSystem.objects.update_or_create(code=code, defaults=data)
    frameworks = {}
    for row in reference_data.FRAMEWORKS:
        data = dict(row)
        code = data.pop("code")
        levels = data.pop("levels")
        level_uri = data.pop("level_uri", "")
        credit = data.pop("credit")
        data["default_credit_system"] = systems[credit] if credit else None
        framework, _ = QualificationsFramework.objects.update_or_create(code=code, defaults=data)
        frameworks[code] = framework
        for ordinal in levels:
            FrameworkLevel.objects.update_or_create(
                framework=framework,
                code=str(ordinal),
                defaults={
                    "ordinal": ordinal,
                    "name_en": f"Level {ordinal}",
                    "name_zh": f"{ordinal} 级",
                    "uri": f"{level_uri}{ordinal}" if level_uri else "",
                },
            )
    for row in reference_data.CONVERSIONS:
        CreditConversion.objects.update_or_create(
            from_system=systems[row["from"]],
            to_system=systems[row["to"]],
            basis=row["basis"],
            institution=None,
            valid_from=row["valid_from"],
            defaults={"factor": row["factor"], "note": row["note"]},
        )
    for row in reference_data.POLICIES:
        data = dict(row)
        code = data.pop("code")
        if "framework" in data:
            data["framework"] = frameworks[data["framework"]]
        if "credit_system" in data:
            data["credit_system"] = systems[data["credit_system"]]
        MicroCredentialPolicy.objects.update_or_create(code=code, defaults=data)
