"""Who may do what in an institution. Every service and console view asks here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from accounts.models import User
from issuers.models import ROLE_RANK, Institution, Issuer, Membership, Role


def role_in(user: User, institution: Institution, issuer: Issuer | None = None) -> Role | None:
    """The highest role ``user`` holds for the institution, or for ``issuer`` within it.

    An institution-wide role applies to every issuer; an issuer role applies to that issuer only.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    if issuer is not None and issuer.institution_id != institution.pk:
        return None
    rows = Membership.objects.filter(user=user, institution=institution)
    if issuer is None:
        rows = rows.filter(issuer__isnull=True)
    else:
        rows = rows.filter(Q(issuer__isnull=True) | Q(issuer=issuer))
    roles = [Role(role) for role in rows.values_list("role", flat=True)]
    return max(roles, key=lambda role: ROLE_RANK[role]) if roles else None


def is_member(user: User, institution: Institution) -> bool:
    """Whether ``user`` holds any role in ``institution`` (institution-wide or for an issuer)."""
    return (
        user.is_authenticated
        and user.is_active
        and Membership.objects.filter(user=user, institution=institution).exists()
    )


def has_role(
    user: User, institution: Institution, minimum: Role, issuer: Issuer | None = None
) -> bool:
    role = role_in(user, institution, issuer)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]


def require_role(
    user: User, institution: Institution, minimum: Role, issuer: Issuer | None = None
) -> None:
    """Raise ``PermissionDenied`` unless ``user`` holds ``minimum`` or a higher role."""
    if not has_role(user, institution, minimum, issuer):
        raise PermissionDenied
