"""Background work of the analytics app."""

from __future__ import annotations

from celery import shared_task

from analytics import services


@shared_task
def fold_analytics() -> str:
    """Add what happened since the last run to the console's rollups (Celery beat, every
    minute)."""
    return services.fold().isoformat()
