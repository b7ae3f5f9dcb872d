"""Issuer API tokens in the console (issue #8): list, revoke, and record when a token was
last used; create one (the key is shown once; only its SHA-256 is stored).

Owners of the institution only: a token awards badges without a person signing in, so it is
as powerful as an awarder of that issuer and is managed like a member.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges.models import IssuerApiToken
from issuers.models import AuditEvent, Issuer, Role
from issuers.permissions import require_role

# How stale ``last_used_at`` may get: a busy integration must not cost a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def tokens_of(issuer: Issuer) -> QuerySet[IssuerApiToken]:
    """The issuer's tokens, newest first, revoked ones included (they stay on record)."""
    return (
        IssuerApiToken.objects.filter(issuer=issuer)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )


@transaction.atomic
def revoke_api_token(*, actor: User, token: IssuerApiToken) -> IssuerApiToken:
    """Revoke ``token`` for good: the next request made with it is refused (401). Owners."""
    require_role(actor, token.issuer.institution, Role.OWNER)
    locked = IssuerApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        raise ValidationError(_("This token is already revoked."))
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    AuditEvent.objects.create(
        institution_id=token.issuer.institution_id,
        actor=actor,
        action="api_token.revoked",
        target=str(token.issuer),
        data={"token": str(locked.pk), "name": locked.name},
    )
    return locked


def record_token_use(token: IssuerApiToken, *, now: datetime | None = None) -> bool:
    """Note that ``token`` authenticated a request; True if this call wrote it.

    At most one write a minute per token: the row already in hand says whether the stored
    time is recent, and the conditional UPDATE keeps concurrent requests from writing twice.
    """
    now = now or timezone.now()
    cutoff = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > cutoff:
        return False
    written = (
        IssuerApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=cutoff))
        .update(last_used_at=now)
    )
    if written:
        token.last_used_at = now
    return bool(written)


def new_api_token_key() -> str:
    return "ins_" + secrets.token_urlsafe(32)


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_api_token(*, actor: User, issuer: Issuer, name: str) -> tuple[IssuerApiToken, str]:
    """A token that awards badges of ``issuer`` only; the key is shown once. Owners."""
    require_role(actor, issuer.institution, Role.OWNER)
    key = new_api_token_key()
    token = IssuerApiToken.objects.create(
        issuer=issuer, name=name[:100], key_hash=token_hash(key), created_by=actor
    )
    AuditEvent.objects.create(
        institution_id=issuer.institution_id,
        actor=actor,
        action="api_token.created",
        target=str(issuer),
        data={"token": str(token.pk), "name": token.name},
    )
    return token, key
