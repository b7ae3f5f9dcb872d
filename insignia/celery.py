"""The Celery application; configuration comes from Django settings (``CELERY_*``)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insignia.settings")

app = Celery("insignia")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's ``tasks`` module, and those of the subpackages that have one.
app.autodiscover_tasks()
app.autodiscover_tasks(
    ["awarding.bulk", "badges.notifications", "badges.statuslists", "frameworks.recognition"],
    related_name="tasks",
)
