"""Reads for the console's OAuth and token pages: an institution's clients and the access
function for one (``client_for``), a person's staff tokens (``staff_token_for``) and the apps
they approved."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from oauth2_provider.models import AccessToken, Application, RefreshToken

from accounts.models import User
from integrations.models import ApiClient, StaffToken
from integrations.oauth import scopes as scope_names
from issuers.models import Institution, Issuer, Role
from issuers.permissions import require_role

GRANT_AUTHORIZATION_CODE = Application.GRANT_AUTHORIZATION_CODE


@dataclass(frozen=True)
class ClientRow:
    """One client as the console lists it."""

    client: ApiClient
    scopes: list[tuple[str, Any]]  # (name, description), in the vocabulary's order
    issuers: list[Issuer]
    last_token_at: datetime | None

    @property
    def acts_for_people(self) -> bool:
        return bool(self.client.application.authorization_grant_type == GRANT_AUTHORIZATION_CODE)


def described_scopes(scopes: frozenset[str]) -> list[tuple[str, Any]]:
    """Each action scope with its description, in the order of ``INSTITUTION_SCOPES``."""
    return [(name, text) for name, text in scope_names.INSTITUTION_SCOPES.items() if name in scopes]


def _newest_token() -> Subquery:
    return Subquery(
        AccessToken.objects.filter(application=OuterRef("application"))
        .order_by("-created")
        .values("created")[:1]
    )


def clients_of(institution: Institution) -> list[ClientRow]:
    """The institution's clients, newest first, revoked ones included (they stay on record).
    Three queries, however many clients: the clients, their issuers, and nothing per row."""
    found = (
        ApiClient.objects.filter(institution=institution, kind=ApiClient.Kind.INSTITUTION)
        .select_related("application", "created_by")
        .prefetch_related("issuers")
        .annotate(last_token_at=_newest_token())
        .order_by("-created_at", "-pk")
    )
    return [
        ClientRow(
            client=client,
            scopes=described_scopes(client.scope_set),
            issuers=sorted(client.issuers.all(), key=lambda issuer: issuer.slug),
            last_token_at=client.last_token_at,
        )
        for client in found
    ]


def client_for(user: User, institution: Institution, client_id: str) -> ApiClient:
    """The institution's client ``client_id``, for an owner: 404 for any other institution's
    client (or a wallet), 403 for anyone but an owner of the institution."""
    require_role(user, institution, Role.OWNER)
    found = (
        ApiClient.objects.filter(
            institution=institution,
            kind=ApiClient.Kind.INSTITUTION,
            application__client_id=client_id,
        )
        .select_related("application", "institution", "created_by")
        .first()
    )
    if found is None:
        raise Http404
    return found


def client_by_id(client_id: str) -> ApiClient | None:
    """The client ``client_id`` names (any kind, revoked or not), with its institution."""
    return (
        ApiClient.objects.filter(application__client_id=client_id)
        .select_related("application", "institution")
        .prefetch_related("issuers")
        .first()
    )


def staff_tokens_of(user: User) -> QuerySet[StaffToken]:
    """The person's tokens, newest first, revoked ones included."""
    return StaffToken.objects.filter(user=user).order_by("-created_at", "-pk")


def staff_token_for(user: User, token_id: uuid.UUID) -> StaffToken:
    """The person's own token ``token_id``; 404 for anyone else's."""
    found = staff_tokens_of(user).filter(pk=token_id).first()
    if found is None:
        raise Http404
    return found


def _holds_tokens(user: User) -> Q:
    live_refresh = RefreshToken.objects.filter(
        application=OuterRef("application"), user=user, revoked__isnull=True
    )
    access = AccessToken.objects.filter(application=OuterRef("application"), user=user)
    return Q(Exists(live_refresh)) | Q(Exists(access))


def approved_apps(user: User) -> list[ClientRow]:
    """The institutions' apps (authorisation code) the person approved and that still hold a
    token for them: the ones a "disconnect" ends."""
    found = (
        ApiClient.objects.filter(
            _holds_tokens(user),
            kind=ApiClient.Kind.INSTITUTION,
            application__authorization_grant_type=GRANT_AUTHORIZATION_CODE,
        )
        .select_related("application", "institution")
        .prefetch_related("issuers")
        .annotate(
            last_token_at=Subquery(
                AccessToken.objects.filter(application=OuterRef("application"), user=user)
                .order_by("-created")
                .values("created")[:1]
            )
        )
        .order_by("application__name", "pk")
    )
    return [
        ClientRow(
            client=client,
            scopes=described_scopes(client.scope_set),
            issuers=sorted(client.issuers.all(), key=lambda issuer: issuer.slug),
            last_token_at=client.last_token_at,
        )
        for client in found
    ]


def approved_app_for(user: User, client_id: str) -> ApiClient:
    """An app the person approved (see ``approved_apps``); 404 for any other client."""
    found = (
        ApiClient.objects.filter(
            _holds_tokens(user),
            kind=ApiClient.Kind.INSTITUTION,
            application__client_id=client_id,
        )
        .select_related("application", "institution")
        .first()
    )
    if found is None:
        raise Http404
    return found


def issuers_limited_to(client: ApiClient, named: frozenset[str]) -> list[Issuer]:
    """The issuers a token of ``client`` would be limited to, by its registration and by the
    ``issuer:<slug>`` scopes requested (empty: every issuer of the institution)."""
    found = list(client.issuers.all())
    if named:
        pool = found or list(Issuer.objects.filter(institution=client.institution))
        found = [issuer for issuer in pool if issuer.slug in named]
    return sorted(found, key=lambda issuer: issuer.slug)
