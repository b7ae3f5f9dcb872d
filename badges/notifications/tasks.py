"""Background sending of award e-mails. Safe to run twice: the service finds a notification
that was already sent (DESIGN.md §8).

Each task imports its service inside its body: the service module enqueues these tasks after
commit, so it imports this module (the HackSoft Styleguide's idiom for on-commit tasks).
"""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_award_email(notification_id: int) -> bool:
    from badges.notifications import services

    try:
        return services.send_award_email(notification_id=notification_id)
    except OSError as error:  # SMTP down: the sweeper sends it later
        services.log_failure(notification_id=notification_id, error=error)
        return False


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_award_emails(notification_ids: list[int]) -> int:
    """The e-mails of one bulk chunk; each is sent at most once per run (see above)."""
    return sum(bool(send_award_email(notification_id)) for notification_id in notification_ids)


@shared_task
def send_claim_reminders() -> int:
    """Beat task: one reminder to learners who have not claimed their badge."""
    from badges.notifications import services

    return services.queue_reminders()
