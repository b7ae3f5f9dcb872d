"""Reads shared by views and commands: console reads scoped by institution, public reads
limited to what may be public (published versions, awards by their unguessable id)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from badges.models import Achievement, AchievementVersion, Award, VersionStatus
from issuers.models import Institution, Issuer, SigningKey


def achievements_of(institution: Institution) -> QuerySet[Achievement]:
    return (
        Achievement.objects.filter(issuer__institution=institution)
        .select_related("issuer")
        .prefetch_related("versions")
        .order_by("issuer__name_en", "slug")
    )


def achievement_of(institution: Institution, achievement_id: uuid.UUID) -> Achievement:
    """The achievement if it belongs to ``institution``; 404 for any other institution's."""
    try:
        return achievements_of(institution).get(pk=achievement_id)
    except Achievement.DoesNotExist:
        raise Http404 from None


def awards_of(institution: Institution) -> QuerySet[Award]:
    return Award.objects.filter(issuer__institution=institution).select_related(
        "issuer", "achievement_version__achievement", "awarded_by"
    )


def award_of(institution: Institution, award_id: uuid.UUID) -> Award:
    try:
        return awards_of(institution).get(pk=award_id)
    except Award.DoesNotExist:
        raise Http404 from None


def keys_of(issuer: Issuer) -> QuerySet[SigningKey]:
    return SigningKey.objects.filter(issuer=issuer).order_by("-created_at", "-pk")


def key_of(issuer: Issuer, key_id: str) -> SigningKey:
    try:
        return keys_of(issuer).select_related("issuer").get(key_id=key_id)
    except SigningKey.DoesNotExist:
        raise Http404 from None


def published_versions(achievement: Achievement) -> QuerySet[AchievementVersion]:
    return achievement.versions.filter(status=VersionStatus.PUBLISHED).order_by("number")


def public_achievement(achievement_id: uuid.UUID) -> Achievement:
    """An achievement with at least one published version; 404 otherwise (drafts are private)."""
    found = (
        Achievement.objects.select_related("issuer", "issuer__institution")
        .filter(pk=achievement_id, versions__status=VersionStatus.PUBLISHED)
        .distinct()
        .first()
    )
    if found is None:
        raise Http404
    return found


def public_version(achievement_id: uuid.UUID, number: int) -> AchievementVersion:
    try:
        return AchievementVersion.objects.select_related(
            "achievement__issuer__institution", "image"
        ).get(achievement_id=achievement_id, number=number, status=VersionStatus.PUBLISHED)
    except AchievementVersion.DoesNotExist:
        raise Http404 from None


def public_award(award_id: uuid.UUID) -> Award:
    try:
        return Award.objects.select_related("issuer", "achievement_version__achievement").get(
            pk=award_id
        )
    except Award.DoesNotExist:
        raise Http404 from None


def published_achievements(issuer: Issuer | None = None) -> list[AchievementVersion]:
    """The latest published version of every achievement (of ``issuer``), by issuer and slug."""
    versions = (
        AchievementVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .select_related("achievement__issuer")
        .order_by("achievement__issuer__slug", "achievement__slug", "-number")
    )
    if issuer is not None:
        versions = versions.filter(achievement__issuer=issuer)
    latest: dict[uuid.UUID, AchievementVersion] = {}
    for version in versions:
        latest.setdefault(version.achievement_id, version)
    return list(latest.values())
