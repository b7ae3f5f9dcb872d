"""Who may do what in an institution. Every service and console view asks here.

A request reads the user's memberships of an institution once: ``RoleCacheMiddleware`` opens a
per-request cache, so the console decorator, the access function and the service that each
check a role cost one query together. Outside a request (commands, tasks, tests calling
services) every check reads the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import User
from issuers.models import ROLE_RANK, Institution, Issuer, Membership, Role

# (user id, institution id) → [(role, issuer id or None)], for the current request only.
_cache: ContextVar[dict[tuple[int, int], list[tuple[Role, int | None]]] | None] = ContextVar(
    "insignia_roles", default=None
)


@contextmanager
def roles_cached() -> Iterator[None]:
    """Remember memberships read inside this block (one request)."""
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def forget_roles() -> None:
    """Drop remembered memberships: called by every service that changes one."""
    cache = _cache.get()
    if cache is not None:
        cache.clear()


class RoleCacheMiddleware:
    """Opens the per-request membership cache (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with roles_cached():
            return self.get_response(request)


def _memberships(user: User, institution: Institution) -> list[tuple[Role, int | None]]:
    cache = _cache.get()
    key = (user.pk, institution.pk)
    if cache is not None and key in cache:
        return cache[key]
    rows: list[tuple[Role, int | None]] = [
        (Role(role), issuer_id)
        for role, issuer_id in Membership.objects.filter(
            user=user, institution=institution
        ).values_list("role", "issuer_id")
    ]
    if cache is not None:
        cache[key] = rows
    return rows


def role_in(user: User, institution: Institution, issuer: Issuer | None = None) -> Role | None:
    """The highest role ``user`` holds for the institution, or for ``issuer`` within it.

    An institution-wide role applies to every issuer; an issuer role applies to that issuer only.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    if issuer is not None and issuer.institution_id != institution.pk:
        return None
    roles = [
        role
        for role, issuer_id in _memberships(user, institution)
        if issuer_id is None or (issuer is not None and issuer_id == issuer.pk)
    ]
    return max(roles, key=lambda role: ROLE_RANK[role]) if roles else None


def visible_issuers(user: User, institution: Institution) -> set[int] | None:
    """The issuers whose records ``user`` may read in ``institution``: ``None`` when an
    institution-wide role lets them read every issuer's; else the ids of the issuers they
    hold a role for (empty for a non-member). Staff given one issuer see that issuer's
    awards, uploads and figures only, never a sibling issuer's learners."""
    if not user.is_authenticated or not user.is_active:
        return set()
    rows = _memberships(user, institution)
    if any(issuer_id is None for _role, issuer_id in rows):
        return None
    return {issuer_id for _role, issuer_id in rows if issuer_id is not None}


def may_read(user: User, institution: Institution, issuer_id: int) -> bool:
    """Whether ``user`` may read the records of the issuer ``issuer_id`` (see
    :func:`visible_issuers`)."""
    visible = visible_issuers(user, institution)
    return visible is None or issuer_id in visible


def is_member(user: User, institution: Institution) -> bool:
    """Whether ``user`` holds any role in ``institution`` (institution-wide or for an issuer)."""
    return user.is_authenticated and user.is_active and bool(_memberships(user, institution))


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


def can_edit_some_issuer(user: User, institution: Institution, minimum: Role) -> bool:
    """Whether ``user`` holds ``minimum`` for the whole institution or for at least one of its
    issuers (the console shows a "create" or "revoke" button then)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return any(
        ROLE_RANK[role] >= ROLE_RANK[minimum] for role, _issuer in _memberships(user, institution)
    )
