"""``manage.py sync_lti_courses``: read the grades of every course with a grade-based badge
and award who meets the rule, now (what Celery beat does every 15 minutes)."""

from typing import Any

from django.core.management.base import BaseCommand

from lti import sync


class Command(BaseCommand):
    help = "Award the badges course grades have earned (LTI Assignment and Grade Services)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(sync.sync_all()))
