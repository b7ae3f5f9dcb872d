"""Background work of bulk issuing: tasks take ids and call services. Safe to run twice:
every service they call is idempotent (DESIGN.md §8).

Each task imports its service inside its body: the service module enqueues these tasks after
commit, so it imports this module (the HackSoft Styleguide's idiom for on-commit tasks).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from awarding.bulk import selectors
from badges.notifications import selectors as notification_selectors
from badges.notifications import tasks as notification_tasks


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    # A database restart (S-25) fails the chunk's transaction: try again within a minute
    # instead of waiting for the sweeper. The chunk is idempotent, so a retry is safe.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=8,
)
def issue_batch(batch_id: str) -> int:
    """Issue a running batch chunk by chunk until no pending row is left for this task."""
    from awarding.bulk import services

    issued = services.issue_pending(batch_id=uuid.UUID(batch_id))
    services.finish_if_done(batch_id=uuid.UUID(batch_id))
    return issued


@shared_task
def sweep_bulk_batches() -> dict[str, int]:
    """Beat task: re-enqueue batches and e-mails whose tasks were lost (crash, broker loss, a
    thread that died with its process under make run, where ``insignia.beat`` runs it)."""
    from awarding.bulk import services

    stale = timedelta(seconds=settings.BULK_STALE_SECONDS)
    batches = selectors.stale_batches(older_than=stale)
    for batch_id in batches:
        services.resume_batch(batch_id=batch_id)
    emails = notification_selectors.unsent_ids(older_than=stale)
    for notification_id in emails:
        notification_tasks.send_award_email.delay(notification_id)
    return {"batches": len(batches), "emails": len(emails)}
