"""Periodic course work (Celery beat, ``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from lti import keys, sync


@shared_task
def sync_courses() -> dict[str, Any]:
    """Read every grade-based placement's grades and roster; award who meets the rule."""
    return sync.sync_all()


@shared_task
def rotate_tool_keys() -> dict[str, str]:
    """Publish each institution's next tool key ahead of use; switch; retire."""
    return keys.rotate_all()
