"""The project app: its only start-up work is the periodic tasks of ``make run``."""

from __future__ import annotations

import os
import sys

from django.apps import AppConfig

from insignia import beat


class InsigniaConfig(AppConfig):
    name = "insignia"
    verbose_name = "Insignia"

    def ready(self) -> None:
        if beat.should_start(sys.argv, os.environ):
            beat.start()  # runserver without a broker: Celery beat's schedule in-process
