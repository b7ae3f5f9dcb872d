"""Award one badge from the command line (a platform operator's act): prints the credential id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from awarding import services
from badges import selectors
from badges.services import EvidenceItem
from issuers.keys import SigningUnavailable


class Command(BaseCommand):
    help = (
        "Award the latest published version of an achievement to an e-mail address; print the "
        "credential id and optionally write the signed credential to --out."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--issuer", required=True, help="issuer short name (slug)")
        parser.add_argument("--achievement", required=True, help="achievement short name")
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="", help="the learner's display name")
        parser.add_argument(
            "--evidence", action="append", default=[], help="evidence URL (repeatable)"
        )
        parser.add_argument("--narrative", default="", help="credentialSubject.narrative")
        parser.add_argument("--language", default=None, help="en or zh-Hans")
        parser.add_argument("--out", type=Path, default=None, help="write the signed JSON here")

    def handle(self, *args: Any, **options: Any) -> None:
        achievement = selectors.achievement_by_slugs(options["issuer"], options["achievement"])
        if achievement is None:
            raise CommandError(
                f"No achievement {options['achievement']!r} of issuer {options['issuer']!r}."
            )
        version = selectors.latest_published(achievement)
        if version is None:
            raise CommandError("This achievement has no published version yet.")
        try:
            award = services.award_badge(
                actor=None,
                version=version,
                email=options["email"],
                name=options["name"],
                evidence=[EvidenceItem(url=url) for url in options["evidence"]],
                narrative=options["narrative"],
                language=options["language"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        except SigningUnavailable as error:
            raise CommandError(str(error)) from None
        if options["out"] is not None:
            options["out"].write_text(award.credential_json, encoding="utf-8")
        self.stdout.write(award.credential["id"])
