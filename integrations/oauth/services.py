"""Every write to OAuth clients: an owner registers one for their institution (the secret is
shown once; DOT stores only its hash), narrows it to issuers and scopes, and revokes it (its
tokens die with it). Wallets register themselves through the Open Badges API
(``register_wallet``) and act only for a learner who approves them. A person withdraws an
app's access to them (``revoke_consent``) and makes and revokes their own staff tokens."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from accounts.models import User
from badges.tokens.selectors import token_hash
from integrations.models import ApiClient, StaffToken
from integrations.oauth import scopes as scope_names
from issuers import services as issuer_services
from issuers.models import AuditAction, Institution, Issuer, Membership, Role
from issuers.permissions import require_role

GRANT_CLIENT_CREDENTIALS = Application.GRANT_CLIENT_CREDENTIALS
GRANT_AUTHORIZATION_CODE = Application.GRANT_AUTHORIZATION_CODE


def _check_scopes(scopes: Sequence[str], allowed: dict[str, Any]) -> str:
    unknown = sorted(set(scopes) - set(allowed))
    if unknown:
        raise ValidationError(_("Unknown scopes: %(scopes)s") % {"scopes": ", ".join(unknown)})
    if not scopes:
        raise ValidationError(_("Choose at least one scope."))
    return " ".join(sorted(set(scopes)))


@transaction.atomic(durable=True)
def register_client(
    *,
    actor: User,
    institution: Institution,
    name: str,
    grant_type: str,
    scopes: Sequence[str],
    issuers: Sequence[Issuer] = (),
    redirect_uris: Sequence[str] = (),
) -> tuple[ApiClient, str]:
    """A confidential client of ``institution``; returns it and its secret (shown once).

    ``client_credentials`` for a system acting for itself (an SIS); ``authorization_code``
    (with PKCE) for an app acting for a signed-in staff member, who must approve it.
    Owners only.
    """
    require_role(actor, institution, Role.OWNER)
    if grant_type not in {GRANT_CLIENT_CREDENTIALS, GRANT_AUTHORIZATION_CODE}:
        raise ValidationError(_("Choose how the client signs in."))
    if any(issuer.institution_id != institution.pk for issuer in issuers):
        raise ValidationError(_("An issuer of another institution was named."))
    if grant_type == GRANT_AUTHORIZATION_CODE and not redirect_uris:
        raise ValidationError(_("An app acting for people needs at least one redirect URI."))
    granted = _check_scopes(scopes, scope_names.INSTITUTION_SCOPES)
    secret = secrets.token_urlsafe(40)
    application = Application(
        name=name.strip()[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=grant_type,
        client_secret=secret,
        redirect_uris=" ".join(redirect_uris),
        skip_authorization=False,
        algorithm="",
    )
    application.full_clean(exclude=["user"])
    application.save()
    client = ApiClient.objects.create(
        application=application,
        kind=ApiClient.Kind.INSTITUTION,
        institution=institution,
        scopes=granted,
        created_by=actor,
    )
    client.issuers.set(issuers)
    issuer_services.record_audit(
        institution_id=institution.pk,
        actor=actor,
        action=AuditAction.API_CLIENT_CREATED,
        target=application.name,
        client_id=application.client_id,
        scopes=granted,
        issuers=[i.slug for i in issuers],
        grant_type=grant_type,
    )
    return client, secret


@transaction.atomic(durable=True)
def register_wallet(
    *,
    name: str,
    redirect_uris: Sequence[str],
    scopes: Sequence[str],
    metadata: dict[str, Any],
    public: bool = False,
) -> tuple[ApiClient, str]:
    """A wallet or backpack registering itself (RFC 7591): no institution, the Open Badges
    scopes only, authorisation code with PKCE; its secret is returned once ("" if public)."""
    if not redirect_uris:
        raise ValidationError(_("A wallet needs at least one redirect URI."))
    granted = _check_scopes(scopes, scope_names.WALLET_SCOPES)
    secret = "" if public else secrets.token_urlsafe(40)
    application = Application(
        name=name.strip()[:255] or "Wallet",
        client_type=Application.CLIENT_PUBLIC if public else Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=GRANT_AUTHORIZATION_CODE,
        client_secret=secret,
        redirect_uris=" ".join(redirect_uris),
        skip_authorization=False,
        algorithm="",
    )
    application.full_clean(exclude=["user"])
    application.save()
    client = ApiClient.objects.create(
        application=application, kind=ApiClient.Kind.WALLET, scopes=granted, metadata=metadata
    )
    return client, secret


def _end_tokens(application: Application) -> None:
    now = timezone.now()
    RefreshToken.objects.filter(application=application, revoked__isnull=True).update(revoked=now)
    AccessToken.objects.filter(application=application).delete()
    Grant.objects.filter(application=application).delete()


@transaction.atomic(durable=True)
def revoke_client(*, actor: User, client: ApiClient) -> ApiClient:
    """Revoke an institution's client for good: its tokens stop working at once. Owners."""
    if client.institution is None:  # a wallet: each learner withdraws it (revoke_consent)
        raise ValidationError(_("A wallet is not an institution's client."))
    require_role(actor, client.institution, Role.OWNER)
    locked = ApiClient.objects.select_for_update().get(pk=client.pk)
    if locked.revoked_at is not None:
        raise ValidationError(_("This client is already revoked."))
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    _end_tokens(client.application)
    issuer_services.record_audit(
        institution_id=client.institution.pk,
        actor=actor,
        action=AuditAction.API_CLIENT_REVOKED,
        target=client.application.name,
        client_id=client.application.client_id,
    )
    return locked


@transaction.atomic(durable=True)
def revoke_consent(*, user: User, client: ApiClient) -> int:
    """A person withdraws their approval of a client: every token it holds for them ends.
    Returns how many tokens ended."""
    now = timezone.now()
    application = client.application
    RefreshToken.objects.filter(application=application, user=user, revoked__isnull=True).update(
        revoked=now
    )
    ended, _rows = AccessToken.objects.filter(application=application, user=user).delete()
    Grant.objects.filter(application=application, user=user).delete()
    return int(ended)


STAFF_TOKEN_PREFIX = "ist_"  # noqa: S105 - a prefix that marks staff tokens, not a secret


def _audit_staff_token(*, user: User, token: StaffToken, action: AuditAction) -> None:
    """One audit row in each institution where the person holds a role: the token acts there
    with their roles, so each institution's owners see it in their activity log."""
    institution_ids = (
        Membership.objects.filter(user=user)
        .values_list("institution_id", flat=True)
        .distinct()
        .order_by("institution_id")
    )
    for institution_id in institution_ids:
        issuer_services.record_audit(
            institution_id=institution_id,
            actor=user,
            action=action,
            target=user.email,
            token=str(token.pk),
            name=token.name,
        )


@transaction.atomic(durable=True)
def create_staff_token(*, user: User, name: str) -> tuple[StaffToken, str]:
    """A personal API token of ``user`` (``Authorization: Token <key>``): it acts as them,
    with the roles they hold when it is used. Returns it and its key, shown once; only the
    key's SHA-256 is stored."""
    if not user.is_active:
        raise ValidationError(_("This account is deactivated."))
    if not name.strip():
        raise ValidationError({"name": _("Give the token a name.")})
    key = STAFF_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = StaffToken.objects.create(user=user, name=name.strip()[:100], key_hash=token_hash(key))
    _audit_staff_token(user=user, token=token, action=AuditAction.STAFF_TOKEN_CREATED)
    return token, key


@transaction.atomic(durable=True)
def revoke_staff_token(*, user: User, token: StaffToken) -> StaffToken:
    """Revoke one of the person's own tokens for good: the next request with it gets 401."""
    if token.user_id != user.pk:
        raise PermissionDenied
    locked = StaffToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        raise ValidationError(_("This token is already revoked."))
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    _audit_staff_token(user=user, token=locked, action=AuditAction.STAFF_TOKEN_REVOKED)
    return locked
