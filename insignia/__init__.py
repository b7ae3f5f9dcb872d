"""Insignia: issue, keep and verify micro-credentials as signed Open Badges 3.0."""

from insignia.celery import app as celery_app

__all__ = ["celery_app"]
