"""List published achievements (latest version of each)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from badges import credentials, selectors


class Command(BaseCommand):
    help = "List every published achievement; --json prints a JSON array."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print a JSON array")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = [
            {
                "issuer": version.achievement.issuer.slug,
                "slug": version.achievement.slug,
                "version": version.number,
                "name": version.name_en or version.name_zh,
                "name_en": version.name_en,
                "name_zh": version.name_zh,
                "achievement_type": version.achievement_type,
                "languages": version.languages(),
                "id": credentials.version_url(version),
                "published_at": version.published_at.isoformat() if version.published_at else None,
                # Framework placement (level, credits) joins here when frameworks exist.
            }
            for version in selectors.published_achievements()
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for row in rows:
            self.stdout.write(f"{row['issuer']}/{row['slug']} v{row['version']}  {row['name']}")
