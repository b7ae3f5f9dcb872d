"""Benchmark: serving a full status list after a change, from scratch (before issue 19) and
from the stored bits (now).

    .venv/bin/python bench/statuslist.py [--reps 20] [--keep]

Seeds a throw-away PostgreSQL database (``BENCH_DATABASE_URL``, default
``insignia_bench_statuslist`` on 127.0.0.1; dropped and migrated afresh unless ``--keep`` finds
one already seeded) with one issuer whose revocation and suspension lists are full: 98,304
entries each (their ``capacity``), 3 % of the awards revoked and 1.5 % suspended. One award is
made through the platform's services; the others are copies of its row made in SQL (their
proofs do not verify, which does not matter here) with entries at random free indexes.

Then, ``--reps`` times, on the suspension list (the one credentials carry), side by side:

* ``statuslist.scratch``: the bits computed from the awards (one probe per entry), compressed
  (as before: deflate's default strategy at level 9) and signed: what the first request after
  any change cost before.
* ``statuslist.mark_changed`` and its peer ``statuslist.mark_changed_old``: the part of a
  status change's transaction that keeps the lists current, for one award: now the bits set
  under the list's lock with ``version``; before, ``version`` alone.
* ``statuslist.resign``: compress and sign the stored bits (the task after a commit, or a
  request that finds the list behind).
* ``statuslist.request_*``: ``GET /status/<id>`` in process (Django's test client, every
  middleware) when the list is current (``request_current``), behind its bits
  (``request_after_change``: the task has not run yet), and with its bits not known
  (``request_scratch``: what every first request after a change did before, less the old
  compression's time).
* ``statuslist.revoke``: ``revoke_award`` end to end; with ``CELERY_TASK_ALWAYS_EAGER`` (as
  ``make run``) that includes signing both lists after the commit.

One JSON object per line with the median and p90 in milliseconds.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/insignia_bench_statuslist"
REVOKED, SUSPENDED = 0.03, 0.015


def _setup_django(url: str) -> None:
    os.environ.update(
        {
            "INSIGNIA_ENV": "test",
            "DJANGO_SETTINGS_MODULE": "insignia.settings",
            "DATABASE_URL": url,
            "CELERY_TASK_ALWAYS_EAGER": "true",
        }
    )
    import django

    django.setup()


def _database_exists(url: str) -> bool:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, dbname="postgres"
    ) as admin:
        found = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [parts.path.lstrip("/")]
        ).fetchone()
    return found is not None


def _fresh_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _seed() -> None:
    """One issuer, one real award, its row copied until both its lists are full."""
    from django.db import connection, transaction

    from badges.models import Award, StatusEntry, StatusList
    from badges.statuslists import serving
    from tests.badges.helpers import award, make_published
    from tests.base import make_cast

    cast = make_cast()
    template = award(cast.awarder, make_published(cast.editor, cast.issuer))
    lists = list(StatusList.objects.filter(issuer=cast.issuer))
    copies = min(sl.capacity for sl in lists) - 1
    columns = [str(f.column) for f in Award._meta.concrete_fields if f.column != "id"]
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    award_table = connection.ops.quote_name(Award._meta.db_table)
    entry_table = connection.ops.quote_name(StatusEntry._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {award_table} (id, {names}) "  # noqa: S608 - our own names
            f"SELECT gen_random_uuid(), {names} FROM {award_table}, generate_series(1, %s) "
            "WHERE id = %s",
            [copies, template.pk],
        )
        for status_list in lists:
            cursor.execute(
                f"INSERT INTO {entry_table} (award_id, status_list_id, purpose, index) "  # noqa: S608 - our own names
                "SELECT a.id, %s, %s, f.i FROM "
                f"(SELECT id, row_number() OVER () AS n FROM {award_table} WHERE id <> %s) a "
                "JOIN (SELECT i, row_number() OVER () AS n FROM (SELECT i FROM "
                "generate_series(0, %s) AS i WHERE i NOT IN (SELECT index FROM "
                f"{entry_table} WHERE status_list_id = %s) ORDER BY random()) AS x) f "
                "ON f.n = a.n",
                [
                    status_list.pk,
                    status_list.purpose,
                    template.pk,
                    status_list.length - 1,
                    status_list.pk,
                ],
            )
        for status, share in (("revoked", REVOKED), ("suspended", SUSPENDED)):
            cursor.execute(
                f"UPDATE {award_table} SET status = %s WHERE id IN (SELECT id FROM "  # noqa: S608 - our own names
                f"{award_table} WHERE status = 'active' AND id <> %s ORDER BY random() "
                "LIMIT %s)",
                [status, template.pk, int((copies + 1) * share)],
            )
        StatusList.objects.filter(pk__in=[sl.pk for sl in lists]).update(is_full=True)
    for status_list in lists:  # the bits from the awards' states, once
        serving.repair_bits(status_list.pk)
    cursor = connection.cursor()
    cursor.execute("ANALYZE")


def _encode_before(bits: bytes | bytearray) -> str:
    """``openbadges.statuslist.encode`` before issue 19: deflate's default strategy at level 9
    (20-80 ms on a full list, against 0.1 ms with ``Z_RLE`` now)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    compressed = compressor.compress(bytes(bits)) + compressor.flush()
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def _timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def _line(bench: str, samples: list[float], **extra: Any) -> None:
    ordered = sorted(samples)
    print(
        json.dumps(
            {
                "bench": bench,
                "n": len(samples),
                "median_ms": round(statistics.median(ordered), 2),
                "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
                **extra,
            }
        ),
        flush=True,
    )


def _machine() -> dict[str, Any]:
    from bench.bulk import _machine as machine

    return machine()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="reuse a seeded database")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    fresh = not (args.keep and _database_exists(url))
    if fresh:
        _fresh_database(url)
    _setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if fresh or not _seeded():
        started = time.perf_counter()
        _seed()
        print(json.dumps({"seeded_s": round(time.perf_counter() - started, 1)}), flush=True)
    print(json.dumps({"machine": _machine()}), flush=True)
    _measure(args.reps)


def _seeded() -> bool:
    from badges.models import StatusList

    return StatusList.objects.filter(is_full=True).exists()


def _measure(reps: int) -> None:
    from django.db import transaction
    from django.db.models import F
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from awarding.revocation import services as revocation_services
    from badges.models import Award, AwardStatus, StatusEntry, StatusList, StatusPurpose
    from badges.statuslists import serving
    from badges.statuslists.selectors import TTL_SECONDS, VALID_FOR, bitstring, list_url
    from issuers import keys
    from issuers import services as issuer_services
    from openbadges import statuslist

    status_list = StatusList.objects.get(purpose=StatusPurpose.SUSPENSION, is_full=True)
    entries = StatusEntry.objects.filter(status_list=status_list).count()
    set_bits = sum(bin(b).count("1") for b in bytes(status_list.bits or b""))
    info = {"entries": entries, "set": set_bits, "list": str(status_list.pk)}
    client = Client()
    path = reverse("status_list", args=[status_list.pk])
    active = list(
        Award.objects.filter(
            status=AwardStatus.ACTIVE, status_entries__status_list=status_list
        ).values_list("pk", flat=True)[:5000]
    )

    def bump() -> None:  # the list behind its bits: the task has not run yet
        StatusList.objects.filter(pk=status_list.pk).update(version=F("version") + 1)

    def get() -> None:
        response = client.get(path)
        assert response.status_code == 200, response.status_code

    def scratch_sign() -> None:  # the old _rebuild's work
        fresh = StatusList.objects.select_related("issuer").get(pk=status_list.pk)
        now = timezone.now().replace(microsecond=0)
        key = issuer_services.active_key(fresh.issuer)
        unsigned = statuslist.build_status_list_credential(
            statuslist.StatusListCredential(
                id=list_url(fresh.pk),
                issuer=keys.issuer_did(fresh.issuer),
                status_purpose=fresh.purpose,
                encoded_list=_encode_before(bitstring(fresh)),
                valid_from=now,
                valid_until=now + VALID_FOR,
                ttl_ms=TTL_SECONDS * 1000,
            )
        )
        keys.sign_credential(unsigned, key=key, created=now)

    def in_rolled_back_change(run: Callable[[list[Any]], None]) -> float:
        award_id = secrets.choice(active)
        with transaction.atomic():
            Award.objects.filter(pk=award_id).update(status=AwardStatus.SUSPENDED)
            took = _timed(lambda: run([award_id]))
            transaction.set_rollback(True)  # and no task after it
        return took

    def old_mark_changed(award_ids: list[Any]) -> None:
        list_ids = (
            StatusEntry.objects.filter(award_id__in=award_ids)
            .values_list("status_list_id", flat=True)
            .distinct()
        )
        StatusList.objects.filter(pk__in=list(list_ids)).update(version=F("version") + 1)

    get()  # warm: templates, contexts, the key
    samples: dict[str, list[float]] = {}
    for _ in range(reps):
        samples.setdefault("scratch", []).append(_timed(scratch_sign))
        samples.setdefault("mark_changed", []).append(in_rolled_back_change(serving.mark_changed))
        samples.setdefault("mark_changed_old", []).append(in_rolled_back_change(old_mark_changed))
        bump()
        samples.setdefault("resign", []).append(
            _timed(lambda: serving.sign_lists([status_list.pk]))
        )
        bump()
        samples.setdefault("request_after_change", []).append(_timed(get))
        samples.setdefault("request_current", []).append(_timed(get))
        StatusList.objects.filter(pk=status_list.pk).update(bits=None)
        bump()
        samples.setdefault("request_scratch", []).append(_timed(get))
        award_id = secrets.choice(active)
        active.remove(award_id)
        found = Award.objects.select_related("issuer").get(pk=award_id)

        def revoke(found: Award = found) -> None:
            revocation_services.revoke_award(actor=None, award=found, reason="Benchmark")

        samples.setdefault("revoke", []).append(_timed(revoke))
    for name, values in samples.items():
        _line(f"statuslist.{name}", values, **info)
    assert serving.repair_bits(status_list.pk) is False  # the stored bits stayed exact


if __name__ == "__main__":
    main()
