"""``manage.py rotate_lti_keys``: one rotation step of every institution's LTI tool key
(what Celery beat does daily), printed per institution."""

from typing import Any

from django.core.management.base import BaseCommand

from lti import keys


class Command(BaseCommand):
    help = "Publish, switch and retire the LTI tool keys that are due."

    def handle(self, *args: Any, **options: Any) -> None:
        for slug, outcome in keys.rotate_all().items():
            self.stdout.write(f"{slug}: {outcome}")
