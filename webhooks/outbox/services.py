"""The outbox of webhooks: fan events out into deliveries, deliver the due ones, emit
``award.expired``, prune old events.

Delivery is at-least-once (Standard Webhooks; receivers drop duplicates by ``webhook-id``).
:func:`deliver_due` takes one due delivery at a time with ``SELECT … FOR UPDATE SKIP LOCKED``
and a lease in its own short transaction, POSTs outside any transaction, then records the
outcome in another. A worker killed mid-POST leaves the lease to run out and the delivery is
taken again. Failures back off (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h…,
each ±20 %) until ``WEBHOOK_RETRY_HOURS`` after the first attempt; then the delivery is
``dead``. ``WEBHOOK_DISABLE_AFTER_DEAD`` dead deliveries in a row, or failures for
``WEBHOOK_DISABLE_AFTER_HOURS``, disable the endpoint, and its owners are e-mailed.
"""

from __future__ import annotations

import secrets as random_source
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Final

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from badges.models import Award, AwardStatus
from badges.services import award_event
from common.mail import send_templated_mail
from events import services as event_services
from events.models import Event, EventType
from issuers import services as issuer_services
from issuers.models import AuditAction
from webhooks import delivery as sender
from webhooks import selectors
from webhooks.models import Attempt, Delivery, DeliveryStatus, DisabledReason, Endpoint

#: Waits after the 1st, 2nd, … failed attempt; the last repeats (each ±20 %).
RETRY_DELAYS: Final = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
)
#: Events turned into deliveries per transaction.
FAN_OUT_BATCH: Final = 500
#: Deliveries one call of :func:`deliver_due` sends at most (a task ends, the next one goes on).
DELIVER_BATCH: Final = 200
#: The first expiry scan looks back this far: badges that expired long before webhooks were
#: switched on are not announced.
EXPIRY_LOOKBACK: Final = timedelta(days=1)
EXPIRY_WATERMARK: Final = "award.expired"


def _matches(endpoint: Endpoint, issuer_ids: set[int], event: Event) -> bool:
    if endpoint.event_types and event.type not in endpoint.event_types:
        return False
    return not issuer_ids or event.issuer_id in issuer_ids


@transaction.atomic
def fan_out(*, now: datetime | None = None, limit: int = FAN_OUT_BATCH) -> int:
    """Turn up to ``limit`` undispatched events into one delivery per matching enabled
    endpoint; returns how many events it took. Safe to run concurrently and again (events
    another dispatcher holds are skipped; a delivery exists once per event and endpoint)."""
    now = now or timezone.now()
    events = event_services.take_undispatched(limit=limit)
    if not events:
        return 0
    endpoints: dict[int, list[tuple[Endpoint, set[int]]]] = {}
    for endpoint in Endpoint.objects.filter(
        institution_id__in={e.institution_id for e in events}, enabled=True
    ).prefetch_related("issuers"):
        issuer_ids = {issuer.pk for issuer in endpoint.issuers.all()}
        endpoints.setdefault(endpoint.institution_id, []).append((endpoint, issuer_ids))
    Delivery.objects.bulk_create(
        [
            Delivery(event=event, endpoint=endpoint, next_attempt_at=now)
            for event in events
            for endpoint, issuer_ids in endpoints.get(event.institution_id, [])
            if _matches(endpoint, issuer_ids, event)
        ],
        ignore_conflicts=True,
    )
    event_services.mark_dispatched(events=events, at=now)
    return len(events)


def dispatch(*, now: datetime | None = None) -> int:
    """Fan out every undispatched event (in batches, a transaction each), then deliver what
    is due; returns how many deliveries were sent."""
    while fan_out(now=now) == FAN_OUT_BATCH:
        pass
    return deliver_due(now=now)


@transaction.atomic
def _take_due(*, now: datetime) -> tuple[Delivery, uuid.UUID] | None:
    """The most overdue delivery to an enabled endpoint that no live worker holds, leased to
    the caller (``WEBHOOK_LEASE_SECONDS``) and counted as an attempt."""
    found = (
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("endpoint", "event")
        .filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED],
            next_attempt_at__lte=now,
            endpoint__enabled=True,
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .order_by("next_attempt_at", "pk")
        .first()
    )
    if found is None:
        return None
    lease = uuid.uuid4()
    found.lease = lease
    found.locked_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    found.attempts += 1
    found.first_attempt_at = found.first_attempt_at or now
    found.last_attempt_at = now
    found.save(
        update_fields=["lease", "locked_until", "attempts", "first_attempt_at", "last_attempt_at"]
    )
    return found, lease


def _retry_delay(attempts: int) -> timedelta:
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return base * (0.8 + random_source.randbelow(401) / 1000)  # jitter: ±20 %


@transaction.atomic
def _record(
    *, delivery_id: uuid.UUID, lease: uuid.UUID, outcome: sender.Outcome, now: datetime
) -> None:
    """Store what one attempt came to; schedule the next, give up, or disable the endpoint.

    Only the holder of the current lease decides: a worker that outlived its lease (another
    has taken the delivery since) adds its attempt to the history and nothing else."""
    found = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
    if found is None:  # the endpoint was deleted meanwhile
        return
    Attempt.objects.create(
        delivery=found,
        number=found.attempts,
        at=found.last_attempt_at or now,
        status_code=outcome.status_code,
        response=outcome.response,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
    )
    if found.lease != lease:
        return
    endpoint = Endpoint.objects.select_for_update().get(pk=found.endpoint_id)
    found.lease = found.locked_until = None
    found.last_status_code = outcome.status_code
    found.last_response, found.last_error = outcome.response, outcome.error
    found.last_duration_ms = outcome.duration_ms
    if outcome.succeeded:
        found.status, found.delivered_at, found.next_attempt_at = (
            DeliveryStatus.SUCCEEDED,
            now,
            None,
        )
        endpoint.consecutive_failures = endpoint.consecutive_dead = 0
        endpoint.failing_since, endpoint.last_success_at = None, now
    else:
        started = found.first_attempt_at or now
        give_up_at = started + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
        if now >= give_up_at:
            found.status, found.next_attempt_at = DeliveryStatus.DEAD, None
            endpoint.consecutive_dead += 1
        else:
            found.status = DeliveryStatus.FAILED
            found.next_attempt_at = min(now + _retry_delay(found.attempts), give_up_at)
        endpoint.consecutive_failures += 1
        endpoint.failing_since = endpoint.failing_since or now
        failing_for = now - endpoint.failing_since
        if endpoint.enabled and (
            endpoint.consecutive_dead >= settings.WEBHOOK_DISABLE_AFTER_DEAD
            or failing_for >= timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
        ):
            _disable_failing(endpoint, now)
    found.save()
    endpoint.save(
        update_fields=[
            "consecutive_failures",
            "consecutive_dead",
            "failing_since",
            "last_success_at",
            "updated_at",
        ]
    )


def _disable_failing(endpoint: Endpoint, now: datetime) -> None:
    """The platform gives up on an endpoint: disabled, audited, its owners e-mailed."""
    endpoint.enabled = False
    endpoint.disabled_reason, endpoint.disabled_at = DisabledReason.FAILING, now
    endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at", "updated_at"])
    issuer_services.record_audit(
        institution_id=endpoint.institution_id,
        actor=None,
        action=AuditAction.WEBHOOK_DISABLED,
        target=endpoint.url,
        endpoint=str(endpoint.pk),
        reason=DisabledReason.FAILING,
        dead=endpoint.consecutive_dead,
        failures=endpoint.consecutive_failures,
    )
    institution = endpoint.institution
    context = {
        "institution_name": institution.name,
        "url": endpoint.url,
        "dead": endpoint.consecutive_dead,
        "failing_since": endpoint.failing_since,
        "endpoint_path": _endpoint_path(institution.slug, endpoint.pk),
    }
    language = endpoint.language
    for email in selectors.owner_emails(institution.pk):
        transaction.on_commit(
            partial(
                send_templated_mail,
                to=email,
                template="webhook_disabled",
                context=context,
                language=language,
            ),
            robust=True,
        )


def _endpoint_path(institution_slug: str, endpoint_id: uuid.UUID) -> str:
    try:
        return reverse("manage:webhook_detail", args=[institution_slug, endpoint_id])
    except NoReverseMatch:  # the console's URLs are not mounted in this process
        return reverse("manage:dashboard", args=[institution_slug])


def deliver_due(*, now: datetime | None = None, limit: int = DELIVER_BATCH) -> int:
    """Send due deliveries one at a time, up to ``limit``; returns how many were sent.

    Not one transaction: each delivery is taken in one and its outcome recorded in another,
    and the POST runs between them, outside any. ``now`` is the scheduler's clock (tests move
    it); the signature's ``webhook-timestamp`` is always the real time of the POST."""
    sent = 0
    while sent < limit:
        clock = now or timezone.now()
        taken = _take_due(now=clock)
        if taken is None:
            break
        row, lease = taken
        outcome = sender.send(
            row.endpoint.url,
            sender.signing_secrets(row.endpoint, clock),
            row.event.webhook_id,
            sender.payload(row.event),
        )
        _record(delivery_id=row.pk, lease=lease, outcome=outcome, now=now or timezone.now())
        sent += 1
    return sent


@transaction.atomic
def emit_expired_awards(*, now: datetime | None = None) -> int:
    """Emit ``award.expired`` for every award whose ``valid_until`` passed since the last
    scan (a watermark; revoked awards are left out), exactly once per award (a unique
    constraint holds that even if scans overlap); returns how many it found."""
    now = now or timezone.now()
    since = event_services.lock_watermark(name=EXPIRY_WATERMARK, default=now - EXPIRY_LOOKBACK)
    if since >= now:
        return 0
    expired = (
        Award.objects.filter(valid_until__gt=since, valid_until__lte=now)
        .exclude(status=AwardStatus.REVOKED)
        .select_related("issuer", "achievement_version")
        .order_by("valid_until", "pk")
    )
    found = 0
    pending: list[event_services.NewEvent] = []
    for award in expired.iterator(chunk_size=1000):
        pending.append(award_event(award, EventType.AWARD_EXPIRED))
        if len(pending) == 1000:
            found += len(event_services.emit_many(events=pending, skip_existing=True))
            pending = []
    found += len(event_services.emit_many(events=pending, skip_existing=True))
    event_services.move_watermark(name=EXPIRY_WATERMARK, at=now)
    return found


def prune(*, now: datetime | None = None) -> int:
    """Delete events older than ``WEBHOOK_EVENT_RETENTION_DAYS`` with their deliveries, a
    thousand per transaction; returns how many events."""
    before = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_EVENT_RETENTION_DAYS)
    total = 0
    while deleted := event_services.prune_events(before=before):
        total += deleted
    return total
