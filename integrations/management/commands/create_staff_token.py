"""Create a personal API token for a staff member and print its key, once (the replacement of
DRF's ``drf_create_token``: only the key's SHA-256 is stored)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from integrations.oauth import services
from openbadges.ob3 import normalize_email


class Command(BaseCommand):
    help = (
        "Create a personal API token for EMAIL and print its key (only this once); "
        "send it as 'Authorization: Token <key>'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="Command line", help="what the token is for")

    def handle(self, *args: Any, **options: Any) -> None:
        email = normalize_email(options["email"])
        user = User.objects.filter(email=email).first()
        if user is None:
            raise CommandError(f"No account with the e-mail address {email}.")
        try:
            token, key = services.create_staff_token(user=user, name=options["name"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        # The key alone on stdout (KEY=$(manage.py create_staff_token …)); the rest on stderr.
        self.stderr.write(
            f"Personal API token “{token.name}” for {email}; it is shown only this once "
            "and acts with this person's roles."
        )
        self.stdout.write(key)
