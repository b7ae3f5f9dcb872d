"""Every write to the events outbox: emit one or many events, take undispatched events for
fan-out, the watermark of periodic emitters, a test event, and pruning.

:func:`emit` and :func:`emit_many` run **inside the transaction of the change they announce**
(they refuse to run outside one): the event row commits with the change or not at all. They
open no savepoint of their own, so an emit costs exactly one INSERT, whatever the number of
events. After commit they ask for ``webhooks.tasks.dispatch`` *by name*, so this app never
imports the webhooks app above it (the import contracts in ``pyproject.toml``). Whether or not
the institution has an endpoint, the row is written: checking would cost the same query as
the insert, and could race with an endpoint being added; old rows are pruned instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from celery import current_app
from django.db import transaction

from common.db import insert_many
from events.models import Event, EventType, Watermark

#: The Celery task that turns new events into webhook deliveries (``webhooks.tasks``).
DISPATCH_TASK: Final = "webhooks.tasks.dispatch"


@dataclass(frozen=True)
class NewEvent:
    """One event to emit, as plain values. ``subject`` names what it is about (an award id)."""

    type: str
    institution_id: int
    issuer_id: int | None
    data: Mapping[str, Any]
    subject: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Events are emitted inside the transaction of the change they announce.")


def _request_dispatch() -> None:
    """Ask for ``webhooks.tasks.dispatch`` by name: the registered task when this process
    knows it (so eager mode runs it in place), else a message to the broker."""
    current_app.signature(DISPATCH_TASK).delay()


def _row(new: NewEvent) -> Event:
    if new.type not in EventType.values:
        raise ValueError(f"unknown event type {new.type!r}")
    return Event(
        id=new.id,
        institution_id=new.institution_id,
        issuer_id=new.issuer_id,
        type=new.type,
        subject=new.subject[:100],
        data=dict(new.data),
    )


def emit(
    *,
    type: str,
    institution_id: int,
    issuer_id: int | None,
    data: Mapping[str, Any],
    subject: str = "",
) -> Event:
    """Record one event in the caller's transaction; after commit, webhooks are dispatched.

    Raises ``RuntimeError`` outside a transaction (the event must commit with its change).
    """
    (event,) = emit_many(
        events=[
            NewEvent(
                type=type,
                institution_id=institution_id,
                issuer_id=issuer_id,
                data=data,
                subject=subject,
            )
        ]
    )
    return event


def emit_many(*, events: Sequence[NewEvent], skip_existing: bool = False) -> list[Event]:
    """Record ``events`` with one INSERT in the caller's transaction (a bulk chunk of awards);
    after commit, webhooks are dispatched once for all of them.

    ``skip_existing``: rows the database already holds under a unique constraint (an award
    that has already expired) are left out rather than failing the transaction.
    """
    _require_transaction()
    rows = [_row(new) for new in events]
    if not rows:
        return []
    if skip_existing:
        rows = Event.objects.bulk_create(rows, ignore_conflicts=True)
    else:
        insert_many(rows)  # not bulk_create: see common.db.insert_many
    transaction.on_commit(_request_dispatch, robust=True)
    return rows


def take_undispatched(*, limit: int) -> list[Event]:
    """Up to ``limit`` events not yet dispatched, oldest first, locked for the caller's
    transaction; rows another dispatcher holds are skipped, never waited for."""
    _require_transaction()
    return list(
        Event.objects.select_for_update(skip_locked=True)
        .filter(dispatched_at__isnull=True)
        .order_by("created_at", "pk")[:limit]
    )


def mark_dispatched(*, events: Sequence[Event], at: datetime) -> None:
    """Note that ``events`` (taken by :func:`take_undispatched`) have their deliveries."""
    Event.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=at)


@transaction.atomic
def record_test_event(
    *, institution_id: int, issuer_id: int | None, data: Mapping[str, Any], at: datetime
) -> Event:
    """A ``webhook.test`` event for one endpoint: stored already dispatched (it is delivered
    to the endpoint that asked for it only, never fanned out)."""
    return Event.objects.create(
        institution_id=institution_id,
        issuer_id=issuer_id,
        type=EventType.WEBHOOK_TEST,
        data=dict(data),
        dispatched_at=at,
    )


def lock_watermark(*, name: str, default: datetime) -> datetime:
    """The watermark ``name``, locked for the caller's transaction (two scans never overlap);
    created at ``default`` the first time."""
    _require_transaction()
    Watermark.objects.get_or_create(name=name, defaults={"at": default})
    return Watermark.objects.select_for_update().get(name=name).at


def move_watermark(*, name: str, at: datetime) -> None:
    """Set the watermark ``name`` (locked by :func:`lock_watermark`) to ``at``."""
    Watermark.objects.filter(name=name).update(at=at)


@transaction.atomic
def prune_events(*, before: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` events created before ``before`` (their deliveries go with
    them); returns how many. Old events are history nobody will be sent again."""
    ids = list(
        Event.objects.filter(created_at__lt=before)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        Event.objects.filter(pk__in=ids).delete()
    return len(ids)
