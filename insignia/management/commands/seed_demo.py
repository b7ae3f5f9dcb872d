"""Load the demo data for `make run` (``insignia.demo.services.seed_demo``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from insignia.demo.services import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_USERS, seed_demo
from issuers.models import Role


class Command(BaseCommand):
    help = "Create the demo institution (示范职业学院 / Demo Polytechnic), issuers and staff."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo loads known passwords; it never runs in production.")
        seeded = seed_demo()
        institution = seeded.institution
        self.stdout.write(f"Demo institution: {institution.name_en} / {institution.name_zh}")
        for email, (_name, password, role) in DEMO_USERS.items():
            self.stdout.write(f"  {Role(role).label:8} {email}  password: {password}")
        self.stdout.write(
            f"  API client (client credentials) {DEMO_CLIENT_ID}  secret: {DEMO_CLIENT_SECRET}"
        )
        self.stdout.write("Demo micro-credentials (published) and awards:")
        for line in seeded.lines:
            self.stdout.write(line)
        self.stdout.write(f"Sign in at {settings.INSIGNIA_BASE_URL}/manage/")
