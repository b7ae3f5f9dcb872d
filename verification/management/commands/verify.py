"""``manage.py verify PATH_OR_URL [--email EMAIL] [--json]``.

Exit status: 0 when the badge is valid, 1 when it is not (or could not be fully checked),
2 on bad input (nothing verifiable found). The same pipeline as the page and the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from verification import pipeline
from verification.extract import UPLOAD_MAX_BYTES
from verification.report import Verdict


class Command(BaseCommand):
    help = "Verify an Open Badge: a file (JSON, JWS, PNG, SVG) or a URL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="A file path, a URL, or - for standard input.")
        parser.add_argument(
            "--email", default="", help="Check the badge was issued to this e-mail."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        asked = pipeline.VerifyRequest(email=options["email"])
        if source.startswith(("http://", "https://")):
            asked.url = source
        elif source == "-":
            import sys

            asked.upload = sys.stdin.buffer.read(UPLOAD_MAX_BYTES + 1)
        else:
            path = Path(source)
            if not path.is_file():
                self.stderr.write(f"No such file: {source}")
                raise SystemExit(2)
            with path.open("rb") as handle:
                asked.upload = handle.read(UPLOAD_MAX_BYTES + 1)
            asked.filename = path.name
        report = pipeline.verify(asked)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(report.headline)
            for check in report.checks:
                self.stdout.write(f"  [{check.status:>8}] {check.title}: {check.message}")
            if report.own:
                self.stdout.write(f"  {report.own['version_note']}")
        if report.verdict is Verdict.BAD_INPUT:
            raise SystemExit(2)
        raise SystemExit(0 if report.is_valid else 1)
