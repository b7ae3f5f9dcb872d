"""Authentication by issuer API token for the DRF API: ``Authorization: Bearer ins_…``.

A token acts for its issuer only, as an awarder of it would; each view checks that the
object it acts on belongs to ``request.auth.issuer``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from badges.models import IssuerApiToken
from badges.tokens import selectors, services


class IssuerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer ins_…``: an ``IssuerApiToken`` (only its SHA-256 is stored)."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, IssuerApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if len(header) != 2 or header[0] != self.keyword or not header[1].startswith("ins_"):
            return None
        token = selectors.live_token(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        services.record_token_use(token=token)  # at most one write a minute per token
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class IssuerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "badges.tokens.auth.IssuerTokenAuthentication"
    name = "issuerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "ins_…"}


class TokenOrStaff(permissions.BasePermission):
    """An issuer API token, or a signed-in person (the view checks what they may do)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, IssuerApiToken) or bool(
            request.user and request.user.is_authenticated
        )
