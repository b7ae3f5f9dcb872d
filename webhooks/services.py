"""Every write of webhook endpoints: create, change, delete, rotate the secret, enable,
disable, send a test event, send a delivery again. Sending is ``webhooks.outbox``.

The functions take ``actor: User | None`` (``None``: the platform itself or an operator) and
plain values, check the owner role themselves and audit every change, so the console and the
API call them alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from events import services as event_services
from events.models import SUBSCRIBABLE
from issuers import services as issuer_services
from issuers.models import AuditAction, Institution, Issuer, Role
from issuers.permissions import has_role
from verification import fetcher
from webhooks import delivery as sender
from webhooks import tasks
from webhooks.models import Delivery, DeliveryStatus, DisabledReason, Endpoint

#: At most this many endpoints per institution.
MAX_ENDPOINTS: Final = 20


def _require_owner(actor: User | None, institution: Institution) -> None:
    if actor is not None and not has_role(actor, institution, Role.OWNER):
        raise PermissionDenied


def _audit(endpoint: Endpoint, actor: User | None, action: AuditAction, **data: Any) -> None:
    issuer_services.record_audit(
        institution_id=endpoint.institution_id,
        actor=actor,
        action=action,
        target=endpoint.url,
        endpoint=str(endpoint.pk),
        **data,
    )


def _request_delivery() -> None:
    tasks.deliver_due.delay()


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def _clean(
    *,
    institution: Institution,
    url: str,
    event_types: Sequence[str],
    issuers: Sequence[Issuer],
) -> tuple[str, list[str]]:
    """The URL and event types as stored, or the ``ValidationError`` naming each problem.

    The URL must pass the safe fetcher's address rules now (they are checked again on every
    delivery, as a name may be pointed elsewhere later)."""
    url = url.strip()
    errors: dict[str, str] = {}
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        errors["url"] = _("Enter a full http:// or https:// URL.")
    else:
        if settings.WEBHOOK_REQUIRE_HTTPS and not url.lower().startswith("https://"):
            errors["url"] = _("Use an https:// URL: events carry learners' e-mail addresses.")
        else:
            try:
                fetcher.check_destination(url)
            except fetcher.BlockedURL as error:
                errors["url"] = _(
                    "Webhooks are sent only to public addresses on port 80 or 443, without "
                    "a user name or password in the URL. Refused: %(reason)s."
                ) % {"reason": error}
            except fetcher.FetchError:
                errors["url"] = _("The host of this URL could not be found.")
    unknown = [t for t in event_types if t not in SUBSCRIBABLE]
    if unknown:
        errors["event_types"] = _("Unknown event type: %(type)s.") % {"type": unknown[0]}
    if any(issuer.institution_id != institution.pk for issuer in issuers):
        errors["issuers"] = _("Choose issuers of this institution.")
    if errors:
        raise ValidationError(errors)
    return url, sorted(set(event_types), key=SUBSCRIBABLE.index)


@transaction.atomic
def create_endpoint(
    *,
    actor: User | None,
    institution: Institution,
    url: str,
    description: str = "",
    event_types: Sequence[str] = (),
    issuers: Sequence[Issuer] = (),
    language: str = "en",
) -> Endpoint:
    """Add an endpoint that receives the institution's events (``event_types``: those types
    only; ``issuers``: those issuers' only; empty: all). Its new secret is
    ``endpoint.secret``: show it to the owner now, it is not shown again. Owners only;
    raises ``ValidationError`` for a URL that may not receive webhooks."""
    _require_owner(actor, institution)
    if Endpoint.objects.filter(institution=institution).count() >= MAX_ENDPOINTS:
        raise ValidationError(
            _("An institution can have at most %(n)s webhook endpoints.") % {"n": MAX_ENDPOINTS}
        )
    url, types = _clean(institution=institution, url=url, event_types=event_types, issuers=issuers)
    endpoint = Endpoint.objects.create(
        institution=institution,
        url=url,
        description=description.strip()[:200],
        event_types=types,
        secret=sender.new_secret(),
        language=language,
        created_by=actor,
    )
    endpoint.issuers.set(issuers)
    _audit(
        endpoint,
        actor,
        AuditAction.WEBHOOK_CREATED,
        events=types,
        issuers=[i.slug for i in issuers],
    )
    return endpoint


@transaction.atomic
def update_endpoint(
    *,
    actor: User | None,
    endpoint: Endpoint,
    url: str,
    description: str,
    event_types: Sequence[str],
    issuers: Sequence[Issuer],
) -> Endpoint:
    """Change where an endpoint is, what it receives and its description (the secret stays).
    Owners only."""
    _require_owner(actor, endpoint.institution)
    url, types = _clean(
        institution=endpoint.institution, url=url, event_types=event_types, issuers=issuers
    )
    endpoint.url, endpoint.description, endpoint.event_types = url, description.strip()[:200], types
    endpoint.save(update_fields=["url", "description", "event_types", "updated_at"])
    endpoint.issuers.set(issuers)
    _audit(
        endpoint,
        actor,
        AuditAction.WEBHOOK_UPDATED,
        events=types,
        issuers=[i.slug for i in issuers],
    )
    return endpoint


@transaction.atomic
def delete_endpoint(*, actor: User | None, endpoint: Endpoint) -> None:
    """Delete an endpoint with its deliveries: nothing more is sent to it. Owners only."""
    _require_owner(actor, endpoint.institution)
    _audit(endpoint, actor, AuditAction.WEBHOOK_DELETED)
    endpoint.delete()


@transaction.atomic
def rotate_secret(
    *, actor: User | None, endpoint: Endpoint, now: datetime | None = None
) -> Endpoint:
    """Give the endpoint a new secret (``endpoint.secret``, shown once). The previous one
    goes on signing beside it for ``WEBHOOK_SECRET_GRACE_HOURS``, so the receiver can change
    over without refusing a message. Owners only."""
    _require_owner(actor, endpoint.institution)
    now = now or timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
    endpoint.secret = sender.new_secret()
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    _audit(
        endpoint,
        actor,
        AuditAction.WEBHOOK_SECRET_ROTATED,
        previous_until=endpoint.previous_secret_expires_at.isoformat(),
    )
    return endpoint


@transaction.atomic
def enable_endpoint(
    *, actor: User | None, endpoint: Endpoint, now: datetime | None = None
) -> Endpoint:
    """Switch an endpoint on again: its failure counts start over, and deliveries that were
    waiting get a fresh retry period from now. Owners only."""
    _require_owner(actor, endpoint.institution)
    now = now or timezone.now()
    endpoint.enabled = True
    endpoint.disabled_reason, endpoint.disabled_at = "", None
    endpoint.consecutive_failures = endpoint.consecutive_dead = 0
    endpoint.failing_since = None
    endpoint.save()
    Delivery.objects.filter(
        endpoint=endpoint, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
    ).update(attempts=0, first_attempt_at=None, next_attempt_at=now, locked_until=None, lease=None)
    _audit(endpoint, actor, AuditAction.WEBHOOK_ENABLED)
    transaction.on_commit(_request_delivery, robust=True)
    return endpoint


def _disable(endpoint: Endpoint, reason: DisabledReason, now: datetime) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason, endpoint.disabled_at = reason, now
    endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at", "updated_at"])


@transaction.atomic
def disable_endpoint(
    *, actor: User | None, endpoint: Endpoint, now: datetime | None = None
) -> Endpoint:
    """Switch an endpoint off: nothing is sent to it, and new events are not kept for it,
    until it is enabled again. Owners only."""
    _require_owner(actor, endpoint.institution)
    _disable(endpoint, DisabledReason.MANUAL, now or timezone.now())
    _audit(endpoint, actor, AuditAction.WEBHOOK_DISABLED, reason=DisabledReason.MANUAL)
    return endpoint


@transaction.atomic
def redeliver(*, actor: User | None, delivery: Delivery, now: datetime | None = None) -> Delivery:
    """Send a delivery again, whatever became of it, as a new round of attempts with the
    same ``webhook-id``. Owners only; the endpoint must be enabled."""
    endpoint = delivery.endpoint
    _require_owner(actor, endpoint.institution)
    if not endpoint.enabled:
        raise ValidationError(
            _("Enable the endpoint first: nothing is sent to it while it is off.")
        )
    now = now or timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        first_attempt_at=None,
        next_attempt_at=now,
        locked_until=None,
        lease=None,
    )
    _audit(endpoint, actor, AuditAction.WEBHOOK_REDELIVERED, event=str(delivery.event_id))
    transaction.on_commit(_request_delivery, robust=True)
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def send_test_event(
    *, actor: User | None, endpoint: Endpoint, now: datetime | None = None
) -> Delivery:
    """Send the endpoint a ``webhook.test`` event (to it alone). Owners only; the endpoint
    must be enabled."""
    _require_owner(actor, endpoint.institution)
    if not endpoint.enabled:
        raise ValidationError(
            _("Enable the endpoint first: nothing is sent to it while it is off.")
        )
    now = now or timezone.now()
    event = event_services.record_test_event(
        institution_id=endpoint.institution_id,
        issuer_id=None,
        data={
            "endpoint_id": str(endpoint.pk),
            "institution": endpoint.institution.slug,
            "message": "A test event from Insignia: this endpoint receives webhooks.",
        },
        at=now,
    )
    sent = Delivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=now)
    _audit(endpoint, actor, AuditAction.WEBHOOK_TESTED, event=str(event.pk))
    transaction.on_commit(_request_delivery, robust=True)
    return sent
