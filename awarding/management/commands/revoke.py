"""Revoke, suspend or reinstate one award from the command line (a platform operator's act).

python manage.py revoke --credential https://host/credentials/<uuid> --reason "Awarded in error"
python manage.py revoke --credential <uuid> --suspend --reason "Under review"
python manage.py revoke --credential <uuid> --reinstate
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from awarding.revocation import services
from badges import selectors
from badges.models import Award


class Command(BaseCommand):
    help = (
        "Revoke an award (or --suspend / --reinstate it). --credential is the credential's id "
        "as written in it (https://<host>/credentials/<uuid>), urn:uuid:<uuid>, or the uuid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--credential", required=True, help="credential id or its uuid")
        parser.add_argument("--reason", default="", help="shown to the learner and verifiers")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--suspend", action="store_true", help="suspend instead of revoke")
        action.add_argument("--reinstate", action="store_true", help="lift a suspension")
        parser.add_argument(
            "--notify", action="store_true", help="e-mail the learner about the change"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            award = selectors.award_by_reference(options["credential"])
        except Award.DoesNotExist:
            raise CommandError(f"No award with the credential {options['credential']!r}.") from None
        change: Callable[..., Award]
        if options["reinstate"]:
            change, verb = services.reinstate_award, "reinstated"
        elif options["suspend"]:
            change, verb = services.suspend_award, "suspended"
        else:
            change, verb = services.revoke_award, "revoked"
        try:
            change(
                actor=None,
                award=award,
                reason=options["reason"],
                notify_earner=options["notify"],
                via="command",
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"{verb} {award.credential.get('id', award.pk)}")
