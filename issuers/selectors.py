"""Reads shared by views, services and commands, always scoped to what the user may see.

``issuer_for`` is the one access function for an issuer: every console view and command that
acts on an issuer of an institution goes through it (404 outside the institution, 403 without
the role)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from issuers.models import Institution, Invitation, Issuer, Membership, Role, SigningKey
from issuers.permissions import require_role


def institutions_for(user: User) -> QuerySet[Institution]:
    """Institutions in which ``user`` holds any role."""
    if not user.is_authenticated:
        return Institution.objects.none()
    return Institution.objects.filter(memberships__user=user).distinct()


def institution_for(user: User, slug: str) -> Institution:
    """The institution ``slug`` if ``user`` is a member of it; otherwise 404 (never 403), so
    that outsiders cannot tell which institutions exist."""
    try:
        return institutions_for(user).get(slug=slug)
    except Institution.DoesNotExist:
        raise Http404 from None


def issuers_of(institution: Institution) -> QuerySet[Issuer]:
    return Issuer.objects.filter(institution=institution).select_related("image")


def issuer_of(institution: Institution, slug: str) -> Issuer:
    """The issuer ``slug`` of ``institution``; 404 for an issuer of any other institution."""
    try:
        return issuers_of(institution).get(slug=slug)
    except Issuer.DoesNotExist:
        raise Http404 from None


def issuer_for(user: User, institution: Institution, slug: str, role: Role) -> Issuer:
    """The issuer ``slug`` of ``institution`` if ``user`` holds ``role`` for it: 404 for an
    issuer of any other institution, 403 without the role."""
    issuer = issuer_of(institution, slug)
    require_role(user, institution, role, issuer)
    return issuer


def keys_of(issuer: Issuer) -> QuerySet[SigningKey]:
    """The issuer's signing keys, newest first, withdrawn ones included."""
    return SigningKey.objects.filter(issuer=issuer).order_by("-created_at", "-pk")


def key_of(issuer: Issuer, key_id: str) -> SigningKey:
    """The issuer's key ``key_id``; 404 for any other."""
    try:
        return keys_of(issuer).select_related("issuer").get(key_id=key_id)
    except SigningKey.DoesNotExist:
        raise Http404 from None


def audit_events_of(institution: Institution, limit: int = 200) -> QuerySet[Any]:
    """The institution's latest audit rows with their actors (the activity page)."""
    return institution.audit_events.select_related("actor")[:limit]


def members_of(institution: Institution) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(institution=institution)
        .select_related("user", "issuer")
        .order_by("user__email", "issuer__name_en")
    )


def membership_of(institution: Institution, membership_id: int) -> Membership:
    try:
        return members_of(institution).get(pk=membership_id)
    except Membership.DoesNotExist:
        raise Http404 from None


def pending_invitations_of(institution: Institution) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        institution=institution, accepted_at__isnull=True, cancelled_at__isnull=True
    ).select_related("issuer", "invited_by")


def invitation_of(institution: Institution, invitation_id: str) -> Invitation:
    try:
        return pending_invitations_of(institution).get(pk=invitation_id)
    except (Invitation.DoesNotExist, ValueError):
        raise Http404 from None
