"""Reads for the console's LTI pages: an institution's course platforms, registration links,
placed badges with their award counts, and the course awards waiting for a staff decision.

Every read is scoped to one institution: an object of another institution is a 404, as if
it did not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final

from django.db.models import Count, Q
from django.http import Http404, HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from issuers.models import Institution
from lti.models import Grant, GrantStatus, Placement, Platform, RegistrationInvite

#: What the LMS administrator grants the tool: Assignment and Grade Services (read and create
#: line items, read results, post scores) and Names and Role Provisioning Services.
SCOPES: Final = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)


def tool_urls(request: HttpRequest, institution: Institution) -> dict[str, str]:
    """The tool's URLs for ``institution``, absolute, to give the LMS administrator. Deep
    linking requests go to the launch URL unless the tool has a URL of its own for them."""
    slug = institution.slug
    found = {
        name: request.build_absolute_uri(reverse(f"lti:{name}", args=[slug]))
        for name in ("login", "launch", "jwks")
    }
    try:
        found["deep_link"] = request.build_absolute_uri(reverse("lti:deep_link", args=[slug]))
    except NoReverseMatch:
        found["deep_link"] = found["launch"]
    return found


def registration_url(request: HttpRequest, token: str) -> str:
    """The absolute URL of a registration link (LTI Dynamic Registration)."""
    return request.build_absolute_uri(reverse("lti:register", args=[token]))


def platforms_of(institution: Institution) -> list[Platform]:
    """The institution's registered platforms, with their deployments."""
    return list(
        Platform.objects.filter(institution=institution)
        .prefetch_related("deployments")
        .order_by("name", "created_at")
    )


def platform_for(institution: Institution, platform_id: uuid.UUID) -> Platform:
    """``institution``'s platform, or 404 (also for another institution's)."""
    found = (
        Platform.objects.filter(institution=institution, pk=platform_id)
        .prefetch_related("deployments")
        .first()
    )
    if found is None:
        raise Http404
    return found


def is_registered(issuer: str, client_id: str, *, besides: uuid.UUID | None = None) -> bool:
    """Whether a platform with this issuer and client ID is registered anywhere in the
    service (a launch must name exactly one institution)."""
    found = Platform.objects.filter(issuer=issuer, client_id=client_id)
    if besides is not None:
        found = found.exclude(pk=besides)
    return found.exists()


def removal_counts(platform: Platform) -> dict[str, int]:
    """What removing ``platform`` deletes with it: placed badges and course award records."""
    return {
        "placements": Placement.objects.filter(course__platform=platform).count(),
        "grants": Grant.objects.filter(course__platform=platform).count(),
    }


def open_invites(institution: Institution) -> list[RegistrationInvite]:
    """Registration links not used yet and not expired, newest first."""
    return list(
        RegistrationInvite.objects.filter(
            institution=institution, used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .select_related("created_by")
        .order_by("-created_at")
    )


def invite_for(institution: Institution, invite_id: int) -> RegistrationInvite:
    """``institution``'s registration link, or 404."""
    found = RegistrationInvite.objects.filter(institution=institution, pk=invite_id).first()
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class PlacedBadge:
    """A badge placed in a course, with the number of its course awards that stand
    (``awarded``: awarded, or kept after review), that wait for a decision (``review``) and
    that could not be made (``failed``)."""

    placement: Placement
    awarded: int
    review: int
    failed: int


def placements_of(institution: Institution) -> list[PlacedBadge]:
    """Badges placed in the institution's courses with their counts; one query."""
    found = (
        Placement.objects.filter(course__platform__institution=institution)
        .select_related("course__platform", "achievement", "created_by")
        .annotate(
            awarded=Count(
                "grants", filter=Q(grants__status__in=[GrantStatus.AWARDED, GrantStatus.KEPT])
            ),
            review=Count("grants", filter=Q(grants__status=GrantStatus.REVIEW)),
            failed=Count("grants", filter=Q(grants__status=GrantStatus.FAILED)),
        )
        .order_by("course__platform__name", "course__title", "created_at")
    )
    return [PlacedBadge(p, p.awarded, p.review, p.failed) for p in found]


def placement_for(institution: Institution, placement_id: uuid.UUID) -> Placement:
    """``institution``'s placed badge, or 404."""
    found = (
        Placement.objects.filter(course__platform__institution=institution, pk=placement_id)
        .select_related("course__platform__institution", "achievement", "created_by")
        .first()
    )
    if found is None:
        raise Http404
    return found


def review_queue(institution: Institution) -> list[Grant]:
    """Course awards whose grade changed after the award, waiting for a staff decision,
    oldest first."""
    return list(
        Grant.objects.filter(status=GrantStatus.REVIEW, course__platform__institution=institution)
        .select_related("award", "placement", "course__platform")
        .order_by("updated_at", "pk")
    )


def grant_for(institution: Institution, grant_id: int) -> Grant:
    """``institution``'s course award record, or 404."""
    found = (
        Grant.objects.filter(course__platform__institution=institution, pk=grant_id)
        .select_related("award", "placement", "course__platform")
        .first()
    )
    if found is None:
        raise Http404
    return found
