"""Background work of bulk issuing and notifications (issue #8): tasks take ids and call
services. Safe to run twice: every service they call is idempotent (DESIGN.md §8)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from badges import bulk_services, notifications


@shared_task(acks_late=True, reject_on_worker_lost=True)
def issue_batch(batch_id: str) -> int:
    """Issue a running batch chunk by chunk until no pending row is left for this task."""
    issued = 0
    while taken := bulk_services.issue_chunk(batch_id=uuid.UUID(batch_id)):
        issued += taken
    bulk_services.finish_if_done(batch_id=uuid.UUID(batch_id))
    return issued


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_award_email(notification_id: int) -> bool:
    try:
        return notifications.send_award_email(notification_id=notification_id)
    except OSError as error:  # SMTP down: the sweeper sends it later
        notifications.log_failure(notification_id, error)
        return False


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_award_emails(notification_ids: list[int]) -> int:
    """The e-mails of one bulk chunk; each is sent at most once per run (see above)."""
    sent = 0
    for notification_id in notification_ids:
        sent += bool(send_award_email(notification_id))
    return sent


@shared_task
def sweep_bulk_batches() -> dict[str, int]:
    """Beat task: re-enqueue batches and e-mails whose tasks were lost (crash, broker loss)."""
    stale = timedelta(seconds=int(getattr(settings, "BULK_STALE_SECONDS", 120)))
    batches = bulk_services.stale_batches(older_than=stale)
    parallel = max(1, int(getattr(settings, "BULK_PARALLEL_TASKS", 2)))
    for batch_id in batches:
        for _n in range(parallel):  # as many as start_batch enqueued, so both cores work again
            issue_batch.delay(str(batch_id))
    emails = notifications.unsent_ids(older_than=stale)
    for notification_id in emails:
        send_award_email.delay(notification_id)
    return {"batches": len(batches), "emails": len(emails)}


@shared_task
def send_claim_reminders() -> int:
    """Beat task: one reminder to learners who have not claimed their badge."""
    return notifications.queue_reminders()
