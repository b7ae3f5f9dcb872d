"""Rotate institutions' SAML service provider keys (Celery beat runs the same daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from signon import saml


class Command(BaseCommand):
    help = (
        "Publish a successor for each SAML key with less than 60 days left, and switch to "
        "successors published at least 14 days ago."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = saml.rotate_keys()
        self.stdout.write(
            f"{done['published']} successor key(s) published, {done['promoted']} promoted."
        )
