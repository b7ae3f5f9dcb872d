"""Periodic sign-on upkeep (Celery beat, ``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task

from signon import configuration, saml


@shared_task
def refresh_metadata() -> dict[str, int]:
    """Re-read identity providers' metadata and discovery documents older than a day."""
    return configuration.refresh_stale()


@shared_task
def rotate_sp_keys() -> None:
    """Publish a successor of each institution's SAML key before it expires, then switch."""
    saml.rotate_keys()
