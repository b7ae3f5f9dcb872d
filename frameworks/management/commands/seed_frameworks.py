"""``manage.py seed_frameworks``: load the reference frameworks, credit systems and policies."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from frameworks.catalogue.services import load_reference_data


class Command(BaseCommand):
    help = "Load NZQCF, EQF/ECTS, AQF, FHEQ/SCQF/CATS, US credit hours and the policies."

    def handle(self, *args: Any, **options: Any) -> None:
        load_reference_data()
        self.stdout.write("Reference frameworks loaded.")
