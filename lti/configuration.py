"""An owner registers, changes and removes their institution's course platforms (LMSs) by
hand, and makes one-time registration links an LMS administrator pastes into their LMS
(LTI Dynamic Registration). Owners only.

Nothing an owner types is trusted: the keyset and token URLs are ones the platform will call,
so they must pass the safe fetcher's address rules now (and are checked again at every call).
A platform and client ID are registered once in the whole service: a launch must name
exactly one institution.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges.tokens.selectors import token_hash
from issuers.models import AuditAction, Institution, Role
from issuers.permissions import require_role
from issuers.services import record_audit
from lti import selectors
from lti.models import Deployment, Platform, RegistrationInvite
from verification import fetcher

#: How long a registration link works.
INVITE_LIFETIME: Final = timedelta(days=7)
#: Open registration links an institution may have at once.
MAX_OPEN_INVITES: Final = 20

_AUDITED: Final = (
    "name",
    "issuer",
    "client_id",
    "auth_login_url",
    "auth_token_url",
    "auth_audience",
    "key_set_url",
    "enabled",
)
#: URLs Insignia itself calls (the rest are where browsers go).
_CALLED: Final = ("key_set_url", "auth_token_url")


def _url_errors(platform: Platform) -> dict[str, str]:
    errors: dict[str, str] = {}
    web = URLValidator(schemes=["http", "https"])
    for name in ("issuer", "auth_login_url", *_CALLED):
        value = str(getattr(platform, name) or "").strip()
        setattr(platform, name, value)
        try:
            web(value)
        except ValidationError:
            errors[name] = _("Enter a full http:// or https:// URL.")
            continue
        if name not in _CALLED:
            continue
        try:
            fetcher.check_destination(value)
        except fetcher.BlockedURL as error:
            errors[name] = _(
                "Insignia calls a course platform only at a public address, on port 80 or "
                "443, without a user name or password in the URL. Refused: %(reason)s."
            ) % {"reason": error}
        except fetcher.FetchError:
            errors[name] = _("The host of this URL could not be found.")
    return errors


def _deployments(deployment_ids: list[str]) -> list[str]:
    found = list(dict.fromkeys(d.strip() for d in deployment_ids if d.strip()))
    if not found:
        raise ValidationError({"deployment_ids": _("Give at least one deployment ID.")})
    if any(len(d) > 255 for d in found):
        raise ValidationError(
            {"deployment_ids": _("A deployment ID is at most 255 characters long.")}
        )
    return found


def _snapshot(platform: Platform) -> dict[str, Any]:
    return {name: getattr(platform, name) for name in _AUDITED}


def _already_registered() -> ValidationError:
    return ValidationError(
        {
            "client_id": _(
                "This platform and client ID are already registered (here or by another "
                "institution)."
            )
        }
    )


@transaction.atomic
def save_platform(
    *, actor: User, institution: Institution, platform: Platform, deployment_ids: list[str]
) -> Platform:
    """Save ``platform`` (new or changed, already filled from the owner's form) with exactly
    ``deployment_ids`` as its deployments. Owners only. Raises ``ValidationError`` naming
    each field that is wrong."""
    require_role(actor, institution, Role.OWNER)
    adding = platform._state.adding
    if not adding and platform.institution_id != institution.pk:
        raise ValidationError(_("Another institution's course platform."))
    platform.institution = institution
    platform.name = platform.name.strip()
    platform.client_id = platform.client_id.strip()
    platform.auth_audience = platform.auth_audience.strip()
    # A launch names its issuer exactly as the platform does, never with a trailing slash.
    platform.issuer = str(platform.issuer or "").strip().rstrip("/")
    errors: dict[str, Any] = _url_errors(platform)
    try:
        wanted = _deployments(deployment_ids)
    except ValidationError as error:
        errors.update(error.message_dict)
        wanted = []
    if not platform.name:
        errors["name"] = _("Give the platform a name.")
    if not platform.client_id:
        errors["client_id"] = _("Give the client ID the platform issued.")
    elif "issuer" not in errors and selectors.is_registered(
        platform.issuer, platform.client_id, besides=None if adding else platform.pk
    ):
        errors.update(_already_registered().message_dict)
    if errors:
        raise ValidationError(errors)
    before = None if adding else _snapshot(Platform.objects.get(pk=platform.pk))
    had = set() if adding else set(platform.deployments.values_list("deployment_id", flat=True))
    try:
        with transaction.atomic():
            platform.save()
    except IntegrityError:  # registered by someone else a moment ago
        raise _already_registered() from None
    platform.deployments.exclude(deployment_id__in=wanted).delete()
    Deployment.objects.bulk_create(
        [Deployment(platform=platform, deployment_id=d) for d in wanted if d not in had]
    )
    if before is None:
        record_audit(
            institution_id=institution.pk,
            actor=actor,
            action=AuditAction.LTI_PLATFORM_REGISTERED,
            target=platform.name,
            issuer=platform.issuer,
            client_id=platform.client_id,
            deployments=wanted,
        )
    else:
        after = _snapshot(platform)
        changed = sorted(name for name in _AUDITED if before[name] != after[name])
        if had != set(wanted):
            changed.append("deployments")
        if changed:
            record_audit(
                institution_id=institution.pk,
                actor=actor,
                action=AuditAction.LTI_PLATFORM_CHANGED,
                target=platform.name,
                issuer=platform.issuer,
                fields=changed,
            )
    return platform


@transaction.atomic
def remove_platform(*, actor: User, platform: Platform) -> dict[str, int]:
    """Remove a platform with its courses, the badges placed in them and their course award
    records. The awards themselves stay with their learners. Returns what went."""
    institution = platform.institution
    require_role(actor, institution, Role.OWNER)
    gone = selectors.removal_counts(platform)
    record_audit(
        institution_id=institution.pk,
        actor=actor,
        action=AuditAction.LTI_PLATFORM_REMOVED,
        target=platform.name,
        issuer=platform.issuer,
        client_id=platform.client_id,
        **gone,
    )
    platform.delete()
    return gone


@transaction.atomic
def create_invite(
    *, actor: User, institution: Institution, name: str
) -> tuple[RegistrationInvite, str]:
    """A one-time registration link for an LMS administrator, working for
    :data:`INVITE_LIFETIME`. Returns the link's row and its token: show the token now, only
    its hash is kept. Owners only."""
    require_role(actor, institution, Role.OWNER)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Name the platform, e.g. “Moodle”.")})
    if len(name) > 100:
        raise ValidationError({"name": _("Keep the name to 100 characters.")})
    if len(selectors.open_invites(institution)) >= MAX_OPEN_INVITES:
        raise ValidationError(
            _("There are %(n)s open registration links already: withdraw one first.")
            % {"n": MAX_OPEN_INVITES}
        )
    token = secrets.token_urlsafe(32)
    invite = RegistrationInvite.objects.create(
        institution=institution,
        token_hash=token_hash(token),
        name=name,
        created_by=actor,
        expires_at=timezone.now() + INVITE_LIFETIME,
    )
    return invite, token


@transaction.atomic
def revoke_invite(*, actor: User, invite: RegistrationInvite) -> None:
    """Withdraw a registration link nobody has used yet. Owners only."""
    require_role(actor, invite.institution, Role.OWNER)
    if invite.used_at is not None:
        raise ValidationError(_("This registration link has been used already."))
    invite.delete()
