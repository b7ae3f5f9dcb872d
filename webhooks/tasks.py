"""Background work of webhooks: each task calls one service. Safe to run twice and at once:
fan-out skips events another worker holds, and a delivery is leased before it is sent.

``dispatch`` is requested by name after an event commits (``events.services``); the beat
schedule (``insignia/settings.py``) runs ``deliver_due`` every few seconds for retries, for
deliveries whose worker died and for events whose ``dispatch`` message was lost.
"""

from __future__ import annotations

from celery import shared_task

from webhooks.outbox import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def dispatch() -> int:
    """New events became deliveries; send what is due."""
    return services.dispatch()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_due() -> int:
    """Beat task: the sweep (fan out anything left, then send what is due)."""
    return services.dispatch()


@shared_task
def emit_expired() -> int:
    """Beat task: ``award.expired`` for awards whose validity ended since the last scan."""
    return services.emit_expired_awards()


@shared_task
def prune_events() -> int:
    """Beat task: forget events older than the retention period."""
    return services.prune()
