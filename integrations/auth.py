"""Who calls the API, and what they may do: every authenticated API request carries a
``Caller`` as ``request.auth`` (a signed-in session gets one from ``caller_of``).

Four credentials, one scope model (``integrations.oauth.scopes``):

- an OAuth 2.0 access token: its client's institution and issuers, narrowed by the token's
  ``issuer:<slug>`` scopes; its action scopes; and, when it acts for a person (authorisation
  code), that person's roles too;
- an issuer token ``ins_…``: one issuer, the scopes its owner chose;
- a staff token (``Authorization: Token …``): a person, with their roles;
- a session: the same.

``Caller.require(scope, issuer)`` is the one check: 404 when the issuer is out of the
caller's reach (another institution, a sibling issuer the token is not for, or that a person
with roles for other issuers only may not read), 403 when it is in reach but the action is
not granted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import AccessToken
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from accounts import otp
from accounts.models import User
from badges.models import IssuerApiToken
from badges.tokens import selectors as token_selectors
from badges.tokens import services as token_services
from integrations.models import ApiClient, StaffToken
from integrations.oauth import scopes as scope_names
from issuers.models import ROLE_RANK, Issuer, Membership
from issuers.permissions import has_role, may_read

CallerKind = Literal["oauth", "issuer_token", "staff_token", "session"]


@dataclass(frozen=True)
class Caller:
    """An API caller. ``None`` in a field means "no limit from the credential" (a person's
    roles still apply when ``user`` is set)."""

    kind: CallerKind
    user: User | None
    institution_id: int | None = None
    issuer_ids: frozenset[int] | None = None
    scopes: frozenset[str] | None = None
    label: str = ""
    client: ApiClient | None = None

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def reaches(self, issuer: Issuer) -> bool:
        """Whether the issuer is within the caller's reach at all (else: 404)."""
        if self.institution_id is not None and issuer.institution_id != self.institution_id:
            return False
        if self.issuer_ids is not None and issuer.pk not in self.issuer_ids:
            return False
        return self.user is None or may_read(self.user, issuer.institution, issuer.pk)

    def can(self, scope: str, issuer: Issuer) -> bool:
        if not (self.has_scope(scope) and self.reaches(issuer)):
            return False
        role = scope_names.ROLE_FOR.get(scope)
        if self.user is not None and role is not None:
            return has_role(self.user, issuer.institution, role, issuer)
        return True

    def require(self, scope: str, issuer: Issuer) -> None:
        """404 out of reach, 403 in reach without the action."""
        if not self.reaches(issuer):
            raise Http404
        if not self.can(scope, issuer):
            raise PermissionDenied

    def issuers(self, scope: str) -> QuerySet[Issuer]:
        """Every issuer where the caller may use ``scope`` (for lists)."""
        found = Issuer.objects.all()
        if not self.has_scope(scope):
            return found.none()
        if self.institution_id is not None:
            found = found.filter(institution_id=self.institution_id)
        if self.issuer_ids is not None:
            found = found.filter(pk__in=self.issuer_ids)
        if self.user is not None:
            minimum = ROLE_RANK[scope_names.ROLE_FOR.get(scope, "viewer")]
            roles = [r for r, rank in ROLE_RANK.items() if rank >= minimum]
            mine = Membership.objects.filter(user=self.user, role__in=roles)
            found = found.filter(
                Q(institution__in=mine.filter(issuer__isnull=True).values("institution"))
                | Q(pk__in=mine.filter(issuer__isnull=False).values("issuer"))
            )
        return found


def caller_of(request: Request) -> Caller:
    """The request's caller; 403 for an anonymous one (the permission class refuses first)."""
    if isinstance(request.auth, Caller):
        return request.auth
    if isinstance(request.user, User) and request.user.is_authenticated:
        if otp.needs_code(request._request):
            # A session that has not given its two-step code acts for no one.
            raise PermissionDenied
        return Caller(kind="session", user=request.user, label=request.user.email)
    raise PermissionDenied


def _granted(scopes: str) -> tuple[frozenset[str], frozenset[str]]:
    every = frozenset(scopes.split())
    return scope_names.actions(every) | (every & set(scope_names.WALLET_SCOPES)), (
        scope_names.issuer_slugs(every)
    )


def caller_for_access_token(token: AccessToken) -> Caller | None:
    """The caller an access token stands for; None if its client was revoked or is gone."""
    application = token.application
    if application is None:
        return None
    try:
        client: ApiClient = application.insignia
    except ApiClient.DoesNotExist:
        return None
    if client.revoked_at is not None:
        return None
    actions, slugs = _granted(token.scope)
    actions &= client.scope_set  # a client's grant shrinking shrinks its live tokens
    issuer_ids: frozenset[int] | None = None
    if client.kind == ApiClient.Kind.INSTITUTION:
        allowed = client.issuers.all()
        ids = {i.pk for i in allowed} or None
        if slugs:
            named = Issuer.objects.filter(institution=client.institution, slug__in=slugs)
            ids = {i.pk for i in named} & ids if ids else {i.pk for i in named}
        issuer_ids = frozenset(ids) if ids is not None else None
    user = token.user if isinstance(token.user, User) else None
    return Caller(
        kind="oauth",
        user=user,
        institution_id=client.institution_id,
        issuer_ids=issuer_ids,
        scopes=actions,
        label=application.name,
        client=client,
    )


class OAuthAuthentication(OAuth2Authentication):
    """``Authorization: Bearer <access token>`` issued by our authorisation server."""

    def authenticate(self, request: Request) -> tuple[Any, Caller] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if len(header) == 2 and header[1].startswith("ins_"):
            return None  # an issuer token: the next class
        found = super().authenticate(request)
        if found is None:
            if len(header) == 2 and header[0] == "Bearer":
                raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
            return None
        user, token = found
        caller = caller_for_access_token(token)
        if caller is None:
            raise exceptions.AuthenticationFailed("This client has been revoked.")
        person = user if isinstance(user, User) and user.is_active else AnonymousUser()
        return person, caller


class IssuerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer ins_…``: an issuer token (only its SHA-256 is stored)."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Caller] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if len(header) != 2 or header[0] != self.keyword or not header[1].startswith("ins_"):
            return None
        token = token_selectors.live_token(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        token_services.record_token_use(token=token)  # at most one write a minute per token
        return AnonymousUser(), issuer_token_caller(token)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def issuer_token_caller(token: IssuerApiToken) -> Caller:
    return Caller(
        kind="issuer_token",
        user=None,
        institution_id=token.issuer.institution_id,
        issuer_ids=frozenset({token.issuer_id}),
        scopes=frozenset(token.scopes.split()),
        label=token.name,
    )


def staff_token_hash(key: str) -> str:
    """What is stored of a staff token: the SHA-256 every API key is kept as."""
    return token_selectors.token_hash(key)


STAFF_TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)


class StaffTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>``: a staff member's personal token, acting as them."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, Caller] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if len(header) != 2 or header[0] != self.keyword:
            return None
        token = (
            StaffToken.objects.select_related("user")
            .filter(key_hash=staff_token_hash(header[1]), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at < now - (
            STAFF_TOKEN_LAST_USED_RESOLUTION
        ):
            StaffToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, Caller(
            kind="staff_token", user=token.user, label=f"{token.user.email} ({token.name})"
        )

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class Authenticated(permissions.BasePermission):
    """Any caller: a token of any kind, or a signed-in person (each view checks what)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Caller) or bool(
            request.user and request.user.is_authenticated
        )


class OAuthScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "integrations.auth.OAuthAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        every = {**scope_names.INSTITUTION_SCOPES}
        return {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {"tokenUrl": "/oauth/token/", "scopes": every},
                "authorizationCode": {
                    "authorizationUrl": "/oauth/authorize/",
                    "tokenUrl": "/oauth/token/",
                    "refreshUrl": "/oauth/token/",
                    "scopes": every,
                },
            },
        }


class IssuerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "integrations.auth.IssuerTokenAuthentication"
    name = "issuerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "ins_…"}


class StaffTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "integrations.auth.StaffTokenAuthentication"
    name = "staffToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization"}
