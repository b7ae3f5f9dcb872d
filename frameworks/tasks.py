"""Background work of frameworks (issue #7): tasks call one service and are idempotent."""

from __future__ import annotations

from celery import shared_task

from frameworks import recognition


@shared_task
def recheck_recognition_evidence() -> dict[str, int]:
    """Beat task (hourly): re-verify the evidence of recognition cases with a granted
    decision that was not checked for ``RECOGNITION_RECHECK_HOURS``; flag decisions whose
    evidence is now revoked, suspended, expired or invalid."""
    return recognition.recheck_due()
