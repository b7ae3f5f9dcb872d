"""Reads of issuer API tokens: an issuer's tokens, the access function for one, and the
token a request's key names."""

from __future__ import annotations

import hashlib
import uuid

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from badges.models import IssuerApiToken
from issuers import selectors as issuer_selectors
from issuers.models import Institution, Issuer, Role


def token_hash(key: str) -> str:
    """What is stored of a key: its SHA-256, in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def tokens_of(issuer: Issuer) -> QuerySet[IssuerApiToken]:
    """The issuer's tokens, newest first, revoked ones included (they stay on record)."""
    return (
        IssuerApiToken.objects.filter(issuer=issuer)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )


def token_for(
    user: User, institution: Institution, issuer_slug: str, token_id: uuid.UUID
) -> IssuerApiToken:
    """The token ``token_id`` of the institution's issuer ``issuer_slug``, for an owner: 404
    for any other institution's or issuer's token, 403 for anyone but an owner."""
    issuer = issuer_selectors.issuer_for(user, institution, issuer_slug, Role.OWNER)
    found = tokens_of(issuer).select_related("issuer__institution").filter(pk=token_id).first()
    if found is None:
        raise Http404
    return found


def live_token(key: str) -> IssuerApiToken | None:
    """The unrevoked token whose key is ``key``, with its issuer; None for any other key."""
    return (
        IssuerApiToken.objects.select_related("issuer")
        .filter(key_hash=token_hash(key), revoked_at__isnull=True)
        .first()
    )
