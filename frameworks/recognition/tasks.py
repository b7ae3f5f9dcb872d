"""Background work of recognition: the beat task that re-checks granted evidence. Tasks call
one service and are idempotent."""

from __future__ import annotations

from celery import shared_task

from frameworks.recognition import services


@shared_task
def recheck_recognition_evidence() -> dict[str, int]:
    """Beat task (hourly): re-verify the evidence of recognition cases with a granted
    decision that was not checked for ``RECOGNITION_RECHECK_HOURS``; flag decisions whose
    evidence is now revoked, suspended, expired or invalid."""
    return services.recheck_due()
