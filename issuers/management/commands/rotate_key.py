"""Rotate an issuer's signing key (a platform operator's act)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from issuers import keys, services
from issuers.models import Issuer


class Command(BaseCommand):
    help = (
        "Retire the issuer's active signing key and create a new one. Credentials signed with "
        "the old key keep verifying: it stays in the DID document as a retired key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--issuer", required=True, help="issuer short name (slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        issuer = Issuer.objects.filter(slug=options["issuer"]).first()
        if issuer is None:
            raise CommandError(f"No issuer {options['issuer']!r}.")
        try:
            key = services.rotate_issuer_key(actor=None, issuer=issuer)
        except keys.SigningUnavailable as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{issuer.slug}: new active key {keys.verification_method(key)}")
