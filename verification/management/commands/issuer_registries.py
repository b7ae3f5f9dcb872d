"""``manage.py issuer_registries``: the trusted-issuer registries this verifier consults
(``INSIGNIA_ISSUER_REGISTRIES``), in order, and whether each answers now.

Each outside registry is downloaded again (the fresh copy replaces the cached one); this
platform's own is counted from the database. Exit status 1 when any registry cannot be read.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from issuers import registry as own_registry
from verification import registries


class Command(BaseCommand):
    help = "List the trusted-issuer registries the verifier consults and whether they answer."

    def handle(self, *args: Any, **options: Any) -> None:
        configured = registries.configured()
        if not configured:
            self.stdout.write("No trusted-issuer registries are configured.")
            return
        failed = 0
        for registry in configured:
            if registry.own:
                count = own_registry.listed_issuers().count()
                self.stdout.write(
                    f"{registry.name}: this platform's own registry, {count} issuers "
                    f"(published at {own_registry.registry_url()})"
                )
                continue
            try:
                if registry.kind == registries.OIDF:
                    anchor, _keys, _stale = registries.trust_anchor(registry, time.time())
                    self.stdout.write(
                        f"{registry.name}: OpenID Federation trust anchor {anchor.get('sub')}, "
                        f"signature checked {registry.url}"
                    )
                    continue
                loaded = registries.load(registry.url, refresh=True)
            except registries.Unavailable as problem:
                failed += 1
                self.stdout.write(
                    f"{registry.name}: could not be read ({problem.code}) {registry.url}"
                )
                continue
            self.stdout.write(f"{registry.name}: {len(loaded.value)} issuers {registry.url}")
        if failed:
            raise CommandError(f"{failed} registr{'y' if failed == 1 else 'ies'} could not be read")
