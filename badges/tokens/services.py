"""Every write to issuer API tokens: create one with the scopes its owner chose (the key is
shown once; only its SHA-256 is stored), revoke one, and record when a token was last used.

Owners of the institution only: a token awards badges without a person signing in, so it is
as powerful as an awarder of that issuer and is managed like a member.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges.models import IssuerApiToken
from badges.tokens import selectors
from badges.tokens.scopes import DEFAULT_SCOPES, checked_scopes
from issuers import services as issuer_services
from issuers.models import AuditAction, Issuer, Role
from issuers.permissions import require_role

# How stale ``last_used_at`` may get: a busy integration must not cost a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic(durable=True)
def revoke_api_token(*, actor: User, token: IssuerApiToken) -> IssuerApiToken:
    """Revoke ``token`` for good: the next request made with it is refused (401). Owners."""
    require_role(actor, token.issuer.institution, Role.OWNER)
    locked = IssuerApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        raise ValidationError(_("This token is already revoked."))
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    issuer_services.record_audit(
        institution_id=token.issuer.institution_id,
        actor=actor,
        action=AuditAction.API_TOKEN_REVOKED,
        target=str(token.issuer),
        token=str(locked.pk),
        name=locked.name,
    )
    return locked


def record_token_use(*, token: IssuerApiToken, now: datetime | None = None) -> bool:
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


@transaction.atomic(durable=True)
def create_api_token(
    *, actor: User, issuer: Issuer, name: str, scopes: Sequence[str] = DEFAULT_SCOPES
) -> tuple[IssuerApiToken, str]:
    """A token for ``issuer`` only, carrying ``scopes`` (at least one, each a name of
    ``badges.tokens.scopes.TOKEN_SCOPES``); the key is shown once. Owners.

    Any scope may be chosen, ``webhooks:manage`` included: the owner who creates the token
    holds every power it carries."""
    require_role(actor, issuer.institution, Role.OWNER)
    granted = checked_scopes(scopes)
    if not name.strip():
        raise ValidationError({"name": _("Give the token a name.")})
    key = "ins_" + secrets.token_urlsafe(32)
    token = IssuerApiToken.objects.create(
        issuer=issuer,
        name=name.strip()[:100],
        key_hash=selectors.token_hash(key),
        scopes=granted,
        created_by=actor,
    )
    issuer_services.record_audit(
        institution_id=issuer.institution_id,
        actor=actor,
        action=AuditAction.API_TOKEN_CREATED,
        target=str(issuer),
        token=str(token.pk),
        name=token.name,
        scopes=granted,
    )
    return token, key
