"""Load the demo data for `make run` (``insignia.demo.services.seed_demo``).

What it prints ends with the demo sign-ins, so that `make run` shows them just above the
server's address. The e-mails the demo awards send (award notices with claim links) are
written to ``var/demo-mail.txt`` instead of the console, and only counted here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from django.urls import reverse

from insignia.demo.services import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_LEARNER,
    DEMO_USERS,
    Seeded,
    seed_demo,
    seed_demo_learner,
)
from issuers.models import Role

CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"
MAIL_FILE = Path(settings.VAR_DIR) / "demo-mail.txt"


def _seed_keeping_mail(path: Path) -> tuple[Seeded, int]:
    """Seed with the e-mails collected, then written to ``path``; returns how many."""
    kept = getattr(mail, "outbox", None)
    mail.outbox = []
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            seeded = seed_demo()
            seed_demo_learner()
        sent = list(mail.outbox)
    finally:
        if kept is None:
            del mail.outbox
        else:
            mail.outbox = kept
    if sent:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for message in sent:
                out.write(f"To: {', '.join(message.to)}\nSubject: {message.subject}\n\n")
                out.write(f"{message.body.rstrip()}\n{'-' * 79}\n")
    return seeded, len(sent)


class Command(BaseCommand):
    help = "Create the demo institution (示范职业学院 / Demo Polytechnic), issuers and staff."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo loads known passwords; it never runs in production.")
        if settings.EMAIL_BACKEND == CONSOLE_MAIL:
            seeded, sent = _seed_keeping_mail(MAIL_FILE)
        else:  # a real mail server (or the tests' outbox) gets them as configured
            seeded, sent = seed_demo(), 0
            seed_demo_learner()
        institution = seeded.institution
        self.stdout.write(f"Demo institution: {institution.name_en} / {institution.name_zh}")
        self.stdout.write("Demo micro-credentials (published) and awards:")
        for line in seeded.lines:
            self.stdout.write(line)
        if sent:
            shown = (
                MAIL_FILE.relative_to(settings.BASE_DIR)
                if MAIL_FILE.is_relative_to(settings.BASE_DIR)
                else MAIL_FILE
            )
            self.stdout.write(
                f"Demo e-mails: {sent} (award notices with claim links) written to {shown}"
            )
        self.stdout.write(
            f"API client (client credentials): {DEMO_CLIENT_ID}  secret: {DEMO_CLIENT_SECRET}"
        )
        base = settings.INSIGNIA_BASE_URL
        self.stdout.write(f"Demo sign-ins (staff at {base}{reverse('manage:login')}):")
        for email, (_name, password, role) in DEMO_USERS.items():
            self.stdout.write(f"  {Role(role).label:8} {email}  password: {password}")
        email, _name, password = DEMO_LEARNER
        self.stdout.write(f"  {'Learner':8} {email}  password: {password}")
        self.stdout.write(f"  (the learner signs in at {base}{reverse('earners:login')})")
