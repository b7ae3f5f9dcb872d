"""Reads of endorsements and requests: the access functions (404 for another institution's,
403 without the owner role), the console's lists, the public pages' lists, the endorsements
new credentials carry, and the search of what this platform has to endorse."""

from __future__ import annotations

import uuid
from typing import Final

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import User
from badges.models import Achievement, AchievementVersion, VersionStatus
from badges.services import Endorsements
from endorsements.models import (
    Endorsement,
    EndorsementRequest,
    EndorsementStatus,
    RequestStatus,
)
from issuers.models import Institution, Issuer, Role
from issuers.permissions import require_role

#: At most this many endorsements travel in a new credential (the most recent first): a
#: verifier checks each one (``INSIGNIA_VERIFY_MAX_ENDORSEMENTS`` caps ours at 10).
MAX_EMBEDDED: Final = 5


def endorsement_for(user: User, institution: Institution, endorsement_id: uuid.UUID) -> Endorsement:
    """An endorsement given by one of ``institution``'s issuers (404 otherwise), for its
    owner (403 otherwise)."""
    found = (
        Endorsement.objects.select_related("endorser")
        .filter(pk=endorsement_id, endorser__institution=institution)
        .first()
    )
    if found is None:
        raise Http404
    require_role(user, institution, Role.OWNER)
    return found


def request_for(
    user: User, institution: Institution, request_id: uuid.UUID, *, incoming: bool
) -> EndorsementRequest:
    """A request ``institution`` received (``incoming``) or sent (404 otherwise), for its
    owner (403 otherwise)."""
    side = Q(recipient=institution) if incoming else Q(requester=institution)
    found = (
        EndorsementRequest.objects.select_related(
            "requester", "recipient", "endorsed_issuer", "endorsed_achievement__issuer"
        )
        .filter(side, pk=request_id)
        .first()
    )
    if found is None:
        raise Http404
    require_role(user, institution, Role.OWNER)
    return found


def given_by(institution: Institution) -> QuerySet[Endorsement]:
    """Endorsements the institution's issuers gave, newest first."""
    return Endorsement.objects.filter(endorser__institution=institution).select_related("endorser")


def received_by(institution: Institution) -> QuerySet[Endorsement]:
    """Endorsements of the institution's issuers and achievements, newest first."""
    return Endorsement.objects.filter(
        Q(endorsed_issuer__institution=institution)
        | Q(endorsed_achievement__issuer__institution=institution)
    ).select_related("endorser__institution")


def requests_received(institution: Institution) -> QuerySet[EndorsementRequest]:
    return EndorsementRequest.objects.filter(recipient=institution).select_related(
        "requester", "endorsed_issuer", "endorsed_achievement__issuer"
    )


def requests_sent(institution: Institution) -> QuerySet[EndorsementRequest]:
    return EndorsementRequest.objects.filter(requester=institution).select_related(
        "recipient", "endorsed_issuer", "endorsed_achievement__issuer"
    )


def pending_count(institution: Institution) -> int:
    return requests_received(institution).filter(status=RequestStatus.PENDING).count()


def active_of_issuer(issuer: Issuer) -> list[Endorsement]:
    """The issuer's active endorsements, newest first (its public page)."""
    return list(
        Endorsement.objects.filter(
            endorsed_issuer=issuer, status=EndorsementStatus.ACTIVE
        ).select_related("endorser__institution")
    )


def active_of_achievement(achievement: Achievement) -> list[Endorsement]:
    """The achievement's active endorsements, newest first (its public page)."""
    return list(
        Endorsement.objects.filter(
            endorsed_achievement=achievement, status=EndorsementStatus.ACTIVE
        ).select_related("endorser__institution")
    )


def embedded_for(version: AchievementVersion) -> Endorsements:
    """The signed endorsements a new credential of ``version`` carries: the active ones of
    its achievement and of its issuer, the most recent :data:`MAX_EMBEDDED` in all (one
    query)."""
    achievement = version.achievement
    rows = list(
        Endorsement.objects.filter(
            Q(endorsed_achievement_id=achievement.pk) | Q(endorsed_issuer_id=achievement.issuer_id),
            status=EndorsementStatus.ACTIVE,
        )
        .only("credential_json", "endorsed_achievement_id")
        .order_by("-created_at")[:MAX_EMBEDDED]
    )
    rows.reverse()  # oldest first in the credential
    return Endorsements(
        achievement=tuple(r.credential for r in rows if r.endorsed_achievement_id is not None),
        issuer=tuple(r.credential for r in rows if r.endorsed_achievement_id is None),
    )


def endorsable_issuers(institution: Institution, query: str = "") -> list[Issuer]:
    """Issuers of other institutions, matching ``query`` by name or short name (at most 20)."""
    found = Issuer.objects.exclude(institution=institution).select_related("institution")
    if query:
        found = found.filter(
            Q(name_en__icontains=query) | Q(name_zh__icontains=query) | Q(slug__icontains=query)
        )
    return list(found.order_by("name_en")[:20])


def endorsable_achievements(institution: Institution, query: str = "") -> list[AchievementVersion]:
    """The latest published version of other institutions' achievements matching ``query``
    (at most 20)."""
    versions = (
        AchievementVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .exclude(achievement__issuer__institution=institution)
        .select_related("achievement__issuer")
        .order_by("achievement_id", "-number")
    )
    if query:
        versions = versions.filter(
            Q(name_en__icontains=query)
            | Q(name_zh__icontains=query)
            | Q(achievement__slug__icontains=query)
        )
    latest: dict[uuid.UUID, AchievementVersion] = {}
    for version in versions[:200]:
        latest.setdefault(version.achievement_id, version)
    return list(latest.values())[:20]


def public_credential(endorsement_id: uuid.UUID) -> Endorsement:
    """Any endorsement, active or withdrawn (its status list says which), for its URL."""
    found = Endorsement.objects.filter(pk=endorsement_id).only("credential_json").first()
    if found is None:
        raise Http404
    return found
