"""Reads of frameworks data, scoped by institution where the data belongs to one."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from badges.models import AchievementVersion
from frameworks.models import (
    CompetencyFramework,
    CompetencyItem,
    CreditSystem,
    FrameworkLevel,
    MicroCredentialPolicy,
    Placement,
    QualificationsFramework,
)
from issuers.models import Institution


def qualification_frameworks(
    institution: Institution | None = None,
) -> QuerySet[QualificationsFramework]:
    """Active reference frameworks plus ``institution``'s own."""
    owned = Q(owner__isnull=True) | Q(owner=institution) if institution else Q(owner__isnull=True)
    return QualificationsFramework.objects.filter(owned, is_active=True).prefetch_related("levels")


def levels(institution: Institution | None = None) -> QuerySet[FrameworkLevel]:
    owned = (
        Q(framework__owner__isnull=True) | Q(framework__owner=institution)
        if institution
        else Q(framework__owner__isnull=True)
    )
    return FrameworkLevel.objects.filter(owned, framework__is_active=True).select_related(
        "framework"
    )


def credit_systems() -> QuerySet[CreditSystem]:
    return CreditSystem.objects.all()


def policies_available(institution: Institution) -> QuerySet[MicroCredentialPolicy]:
    return MicroCredentialPolicy.objects.filter(
        Q(institution__isnull=True) | Q(institution=institution)
    ).select_related("framework", "credit_system")


def policies_of(institution: Institution) -> list[MicroCredentialPolicy]:
    """The policies ``institution`` has chosen to apply to its micro-credentials."""
    return list(
        policies_available(institution).filter(
            pk__in=institution.policy_choices.values("policy_id")
        )
    )


def competency_frameworks(institution: Institution) -> QuerySet[CompetencyFramework]:
    return CompetencyFramework.objects.filter(owner=institution)


def competency_items(institution: Institution) -> QuerySet[CompetencyItem]:
    return CompetencyItem.objects.filter(framework__owner=institution).select_related("framework")


def search_competencies(
    institution: Institution, query: str, limit: int = 20
) -> list[CompetencyItem]:
    """Items of the institution's competency frameworks (not retired) whose label (English or
    Chinese), code or URI matches."""
    query = query.strip()
    if len(query) < 2:
        return []
    # Retired items of custom frameworks stay in credentials but are not offered again.
    return list(
        competency_items(institution)
        .filter(retired_at__isnull=True)
        .filter(
            Q(label__icontains=query)
            | Q(label_zh__icontains=query)
            | Q(code__iexact=query)
            | Q(uri=query)
        )[:limit]
    )


def placement_of(version: AchievementVersion) -> Placement | None:
    """The version's placement with its levels, credits and competencies, or ``None``."""
    return (
        Placement.objects.filter(version=version)
        .prefetch_related(
            "levels__level__framework",
            "credits__credit_system",
            "competencies__item__framework",
        )
        .first()
    )
