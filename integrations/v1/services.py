"""The REST API's own writes: claiming an ``Idempotency-Key``, keeping the answer it got, and
forgetting old ones (``integrations.models.IdempotencyRecord``).

A key is claimed with one ``INSERT … ON CONFLICT DO NOTHING`` on the unique (caller, key), in
its own statement before the request runs (the services it runs are durable transactions of
their own): of two concurrent twins exactly one inserts; the other reads the row and is told
it is still running. Nothing here opens a transaction: each write is one statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.db.models import Q
from django.utils import timezone

from integrations.models import IdempotencyRecord

#: How long an answer is returned again for the same key.
KEEP: Final = timedelta(hours=24)
#: A claim whose request never finished (its worker died) is given up after this long.
LEASE: Final = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    """The record for (caller, key) and whether this request holds it (``ours``); ``record``
    is None when another request released it in between (treat as still running)."""

    record: IdempotencyRecord | None
    ours: bool


def claim_key(*, caller: str, key: str, fingerprint: str, now: datetime | None = None) -> Claim:
    """Claim ``key`` for ``caller`` before running a request; expired answers and abandoned
    claims of the same key are forgotten first."""
    now = now or timezone.now()
    same = IdempotencyRecord.objects.filter(caller=caller, key=key)
    same.filter(
        Q(created_at__lt=now - KEEP) | Q(completed_at__isnull=True, created_at__lt=now - LEASE)
    ).delete()
    token = uuid.uuid4()
    IdempotencyRecord.objects.bulk_create(
        [
            IdempotencyRecord(
                caller=caller, key=key, fingerprint=fingerprint, claim=token, created_at=now
            )
        ],
        ignore_conflicts=True,
    )
    record = same.first()
    return Claim(record=record, ours=record is not None and record.claim == token)


def complete_key(*, record: IdempotencyRecord, status: int, body: Any) -> None:
    """Keep the answer of the request that held the claim."""
    IdempotencyRecord.objects.filter(pk=record.pk, claim=record.claim).update(
        status_code=status, response=body, completed_at=timezone.now()
    )


def release_key(*, record: IdempotencyRecord) -> None:
    """The request was refused or failed: free its key for a corrected retry."""
    IdempotencyRecord.objects.filter(
        pk=record.pk, claim=record.claim, completed_at__isnull=True
    ).delete()


def forget_old_answers(*, now: datetime | None = None) -> int:
    """Delete every answer older than :data:`KEEP` (for a periodic task); returns how many."""
    cutoff = (now or timezone.now()) - KEEP
    deleted, _rows = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return int(deleted)
