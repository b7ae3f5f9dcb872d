"""Reads of the catalogue: qualification frameworks and their levels, credit systems and the
dated rules that convert between them, micro-credential policies, and where a version sits.

Reference rows (``owner``/``institution`` empty) are shared by every institution; an
institution's own rows are read only with that institution.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from badges.models import AchievementVersion, VersionStatus
from frameworks.models import (
    CompetencyAlignment,
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
from issuers.models import Institution


def qualification_frameworks(
    institution: Institution | None = None,
) -> QuerySet[QualificationsFramework]:
    """Active reference frameworks plus ``institution``'s own."""
    owned = Q(owner__isnull=True) | Q(owner=institution) if institution else Q(owner__isnull=True)
    return QualificationsFramework.objects.filter(owned, is_active=True).prefetch_related("levels")


def public_framework(code: str) -> QualificationsFramework:
    """A reference framework by its code (its public page); 404 for an institution's own."""
    return get_object_or_404(QualificationsFramework, code=code, owner__isnull=True)


def levels(institution: Institution | None = None) -> QuerySet[FrameworkLevel]:
    """Levels of the active reference frameworks plus ``institution``'s own."""
    owned = (
        Q(framework__owner__isnull=True) | Q(framework__owner=institution)
        if institution
        else Q(framework__owner__isnull=True)
    )
    return FrameworkLevel.objects.filter(owned, framework__is_active=True).select_related(
        "framework"
    )


def levels_chosen(ids: Sequence[int]) -> list[FrameworkLevel]:
    """The levels picked in a form, by id (``services.save_placement`` checks that each is
    available to the institution, and says so when one is not)."""
    return list(FrameworkLevel.objects.filter(pk__in=ids).select_related("framework"))


def credit_systems() -> QuerySet[CreditSystem]:
    return CreditSystem.objects.all()


def policies_available(institution: Institution) -> QuerySet[MicroCredentialPolicy]:
    """Reference policies plus the institution's own: those it may choose."""
    return MicroCredentialPolicy.objects.filter(
        Q(institution__isnull=True) | Q(institution=institution)
    ).select_related("framework", "credit_system")


def policies_of(institution: Institution) -> list[MicroCredentialPolicy]:
    """The policies ``institution`` has chosen, whatever their scope."""
    return list(
        policies_available(institution).filter(
            pk__in=institution.policy_choices.values("policy_id")
        )
    )


def policy_choices_by_id(institution_id: int) -> list[PolicyChoice]:
    """The institution's chosen policies with their scope (issuer, achievement type)."""
    return list(
        PolicyChoice.objects.filter(institution_id=institution_id)
        .select_related("policy__framework", "policy__credit_system", "issuer")
        .order_by("policy__code")
    )


def versions_to_check(institution_id: int) -> list[AchievementVersion]:
    """The institution's achievements that a policy change can affect, one version each: the
    latest published version (the one awarded) or, never published, the latest draft; with
    their placements prefetched (``placement_or_none``)."""
    versions = (
        AchievementVersion.objects.filter(
            achievement__issuer__institution_id=institution_id,
            status__in=[VersionStatus.PUBLISHED, VersionStatus.DRAFT],
        )
        .select_related("achievement__issuer")
        .prefetch_related(
            "placement__levels__level__framework",
            "placement__credits__credit_system",
            "placement__competencies__item__framework",
        )
        .order_by("achievement_id", "-number")
    )
    chosen: dict[object, AchievementVersion] = {}
    for version in versions:
        kept = chosen.get(version.achievement_id)
        if kept is None or (
            kept.status != VersionStatus.PUBLISHED and version.status == VersionStatus.PUBLISHED
        ):
            chosen[version.achievement_id] = version
    return sorted(chosen.values(), key=lambda v: v.name.casefold())


def placement_or_none(version: AchievementVersion) -> Placement | None:
    """The placement prefetched by ``versions_to_check`` (no query)."""
    try:
        return version.placement
    except Placement.DoesNotExist:
        return None


def placement_of(version: AchievementVersion) -> Placement | None:
    """The version's placement, or ``None``, with what the OB export and the policy checks
    read prefetched: levels with their frameworks, credits with their systems, competencies
    with their frameworks."""
    return (
        Placement.objects.filter(version=version)
        .prefetch_related(
            "levels__level__framework",
            "credits__credit_system",
            "competencies__item__framework",
        )
        .first()
    )


def placements_of(versions: Sequence[AchievementVersion]) -> dict[int, Placement | None]:
    """The placements of many versions by version id (``None`` for a version without one),
    prefetched as ``placement_of`` does, in a fixed number of queries."""
    found: dict[int, Placement | None] = {v.pk: None for v in versions}
    placements = Placement.objects.filter(version__in=[v.pk for v in versions]).prefetch_related(
        Prefetch("levels", queryset=LevelPlacement.objects.select_related("level__framework")),
        Prefetch("credits", queryset=CreditValue.objects.select_related("credit_system")),
        Prefetch(
            "competencies",
            queryset=CompetencyAlignment.objects.select_related("item__framework"),
        ),
    )
    for placement in placements:
        found[placement.version_id] = placement
    return found


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
