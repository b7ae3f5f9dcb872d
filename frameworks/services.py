"""Every write to frameworks data. Each checks the actor's role (``issuers.permissions``).

Placements change only while their version is a draft; publishing freezes them with it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges.models import AchievementVersion, VersionStatus
from frameworks import importers, policies, selectors
from frameworks.models import (
    CompetencyAlignment,
    CompetencyFramework,
    CompetencyItem,
    CreditConversion,
    CreditSystem,
    CreditValue,
    FrameworkLevel,
    LevelPlacement,
    MicroCredentialPolicy,
    Placement,
    PolicyChoice,
)
from issuers.models import AuditEvent, Institution, Role
from issuers.permissions import require_role

PLACEMENT_FIELDS: tuple[str, ...] = (
    "notional_hours",
    "outcomes_en",
    "outcomes_zh",
    "assessment_type",
    "participation",
    "quality_assurance",
    "prerequisites",
    "stackability",
)


@dataclass(frozen=True)
class Credit:
    system: CreditSystem
    amount: Decimal


def _audit(*, institution: Institution, actor: User | None, action: str, target: str) -> None:
    AuditEvent.objects.create(
        institution=institution, actor=actor, action=action, target=target, data={}
    )


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
    """Set where a draft version sits: levels, credits, hours, outcomes, EU Annex I
    descriptors and competency alignments. Editors and owners of the version's issuer."""
    issuer = version.achievement.issuer
    institution = issuer.institution
    require_role(actor, institution, Role.EDITOR, issuer)
    version = AchievementVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(_("A published version is frozen; edit it to start a new one."))
    unknown = set(fields) - set(PLACEMENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown placement fields: {sorted(unknown)}")
    frameworks_seen: set[int] = set()
    allowed_levels = set(selectors.levels(institution).values_list("pk", flat=True))
    for level in levels:
        if level.pk not in allowed_levels:
            raise ValidationError({"levels": _("Choose a level of an available framework.")})
        if level.framework_id in frameworks_seen:
            raise ValidationError({"levels": _("Choose one level per framework.")})
        frameworks_seen.add(level.framework_id)
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
    allowed_items = set(
        selectors.competency_items(institution)
        .filter(pk__in=[c.pk for c in competencies])
        .values_list("pk", flat=True)
    )
    if any(item.pk not in allowed_items for item in competencies):
        raise ValidationError({"competencies": _("Choose competencies of your frameworks.")})
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
    _audit(
        institution=institution,
        actor=actor,
        action="placement.saved",
        target=f"{version.achievement} v{version.number}",
    )
    return placement


def copy_placement(*, source: AchievementVersion, target: AchievementVersion) -> None:
    """Give a new draft the placement of the version it was started from (called by
    ``badges.services.save_draft`` inside its transaction)."""
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


def check_award(version: AchievementVersion) -> None:
    """Refuse an award of ``version`` that its institution's policies do not allow
    (called by ``badges.services.award_badge``; the policies may have changed since publication)."""
    problems = policies.blocking_problems(version)
    if problems:
        raise ValidationError(
            [_("This micro-credential does not meet your institution's policies."), *problems]
        )


@transaction.atomic
def choose_policies(
    *, actor: User, institution: Institution, chosen: Sequence[MicroCredentialPolicy]
) -> None:
    """Set which micro-credential policies apply to the institution. Owners only."""
    require_role(actor, institution, Role.OWNER)
    allowed = set(selectors.policies_available(institution).values_list("pk", flat=True))
    wanted = {p.pk for p in chosen if p.pk in allowed}
    PolicyChoice.objects.filter(institution=institution).exclude(policy_id__in=wanted).delete()
    existing = set(
        PolicyChoice.objects.filter(institution=institution).values_list("policy_id", flat=True)
    )
    PolicyChoice.objects.bulk_create(
        PolicyChoice(institution=institution, policy_id=pk, chosen_by=actor)
        for pk in sorted(wanted - existing)
    )
    _audit(
        institution=institution,
        actor=actor,
        action="policies.chosen",
        target=", ".join(p.code for p in chosen if p.pk in wanted) or "-",
    )


@transaction.atomic
def import_competency_framework(
    *, actor: User, institution: Institution, content: bytes, filename: str = ""
) -> CompetencyFramework:
    """Import a CASE 1.1 package or ESCO skills file; re-importing updates items in place
    (keyed on their identifiers). Editors and owners."""
    require_role(actor, institution, Role.EDITOR)
    try:
        parsed = importers.parse(content, filename)
    except importers.ImportFormatError as error:
        raise ValidationError(
            _("This file is not a CASE 1.1 package or ESCO skills file (%(reason)s).")
            % {"reason": error}
        ) from error
    if not parsed.items:
        raise ValidationError(_("The file holds no competencies with a URI."))
    framework, _created = CompetencyFramework.objects.update_or_create(
        owner=institution,
        source=parsed.source,
        identifier=parsed.identifier[:255],
        defaults={
            "uri": parsed.uri if parsed.uri.startswith("http") else "",
            "title": parsed.title[:500],
            "creator": parsed.creator[:255],
            "version": parsed.version[:50],
            "language": parsed.language[:16],
            "imported_at": timezone.now(),
        },
    )
    existing = {i.identifier: i for i in framework.items.all()}
    new_items = []
    for item in parsed.items:
        values = {
            "uri": item.uri,
            "label": item.label,
            "code": item.code,
            "statement": item.statement,
            "item_type": item.item_type,
            "alt_labels": item.alt_labels,
        }
        found = existing.get(item.identifier[:255])
        if found is None:
            new_items.append(
                CompetencyItem(framework=framework, identifier=item.identifier[:255], **values)
            )
        else:
            for name, value in values.items():
                setattr(found, name, value)
            found.save()
    CompetencyItem.objects.bulk_create(new_items)
    _audit(
        institution=institution, actor=actor, action="competencies.imported", target=framework.title
    )
    return framework


class NoConversionRule(LookupError):
    """No explicit, dated rule converts between the two credit systems on that date."""


def convert_credits(
    *,
    amount: Decimal,
    source: CreditSystem,
    target: CreditSystem,
    on: datetime.date,
    institution: Institution | None = None,
) -> tuple[Decimal, CreditConversion]:
    """Convert by an explicit rule valid on ``on`` (an institution's own rule first); the rule
    is returned so the caller records it. Nothing is converted without one (research §0.3)."""
    rules = CreditConversion.objects.filter(
        Q(institution__isnull=True) | Q(institution=institution),
        from_system=source,
        to_system=target,
        valid_from__lte=on,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    rule = rules.order_by("institution_id", "-valid_from").first()
    if institution is not None:
        own = rules.filter(institution=institution).order_by("-valid_from").first()
        rule = own or rule
    if rule is None:
        raise NoConversionRule(f"no rule converts {source.code} to {target.code} on {on}")
    converted = (amount * rule.factor).quantize(Decimal(1).scaleb(-target.decimal_places))
    return converted, rule
