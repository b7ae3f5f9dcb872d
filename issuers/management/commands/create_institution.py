"""Create an institution and its first owner (a platform operator's task)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import create_user
from issuers import services
from openbadges.ob3 import normalize_email


class Command(BaseCommand):
    help = "Create an institution with an owner; prints a one-time password for a new owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name-en", required=True)
        parser.add_argument("--name-zh", default="")
        parser.add_argument("--country", default="", help="ISO 3166 code, e.g. NZ, CN, NL")
        parser.add_argument("--website", default="")
        parser.add_argument("--owner-email", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        email = normalize_email(options["owner_email"])
        owner = User.objects.filter(email=email).first()
        password = None
        if owner is None:
            password = secrets.token_urlsafe(12)
            owner = create_user(email=email, password=password)
        try:
            institution = services.create_institution(
                slug=options["slug"],
                name_en=options["name_en"],
                name_zh=options["name_zh"],
                country=options["country"],
                website=options["website"],
                owner=owner,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"Created {institution.slug} with owner {email}")
        if password:
            self.stdout.write(
                f"One-time password for {email}: {password} (change it after signing in)"
            )
