"""Fan out new events and send due webhook deliveries now (what the beat task does), e.g.
from cron on a deployment without Celery beat, or to drain the queue by hand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from webhooks.outbox import services


class Command(BaseCommand):
    help = "Send due webhook deliveries (and fan out new events) once."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = services.dispatch()
        self.stdout.write(f"{sent} deliveries sent")
