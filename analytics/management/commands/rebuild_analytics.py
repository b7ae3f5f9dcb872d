"""``manage.py rebuild_analytics``: recompute the console's rollups from the source tables
(after an upgrade, on a seeded benchmark database, or after a long-running transaction)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from analytics import services
from analytics.models import DailyCount


class Command(BaseCommand):
    help = "Recompute the console's analytics rollups from awards, e-mails, views and checks."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        until = services.rebuild()
        rows = DailyCount.objects.count()
        self.stdout.write(
            f"Rebuilt {rows} rollup rows up to {until:%Y-%m-%d %H:%M:%S %Z} "
            f"in {time.monotonic() - started:.1f} s."
        )
