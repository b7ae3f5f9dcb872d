"""Benchmark and drill: a bulk upload of N rows to signed, stored, status-indexed awards.

    .venv/bin/python bench/bulk.py [--rows 10000] [--workers 2] [--verify 200]

1. ``bulk.upload``: parse and check an N-row CSV and insert its rows (one transaction).
2. ``bulk.issue``: ``--workers`` processes run the issuing task on the same batch at once
   (chunks of 100 taken with ``SELECT … FOR UPDATE SKIP LOCKED``, DESIGN.md §8) until every
   row is signed; then the awards, status entries and duplicates are counted and ``--verify``
   credentials, picked at random, are verified with the issuer's published key.

Target (DESIGN.md §10): 10,000 rows in ≤ 30 s end to end on a 2-core machine. Uses a throw-away
PostgreSQL database (``BENCH_DATABASE_URL``, default ``insignia_bench_bulk`` on 127.0.0.1),
dropped and created afresh. Prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/insignia_bench_bulk"


def _env(url: str) -> dict[str, str]:
    return {
        "INSIGNIA_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "insignia.settings",
        "DATABASE_URL": url,
        "BULK_BACKGROUND_THREAD": "false",
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }


def _machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "django": version("django"),
        "psycopg": version("psycopg"),
        "postgres": _server_version(),
    }


def _server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        row = cursor.fetchone()
    return str(row[0]) if row else "unknown"


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


def _setup_django(url: str) -> None:
    os.environ.update(_env(url))
    import django

    django.setup()


def worker(url: str, batch_id: str) -> None:
    """One issuing process: the Celery task's body, called directly (no broker needed)."""
    _setup_django(url)
    from awarding.bulk import tasks

    print(json.dumps({"worker": os.getpid(), "issued": tasks.issue_batch(batch_id)}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--verify", type=int, default=200)
    parser.add_argument(
        "--serial",
        type=int,
        default=500,
        help="peer: award this many more one at a time (award_badge), in this process",
    )
    parser.add_argument("--worker-for", default="")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if args.worker_for:
        worker(url, args.worker_for)
        return

    _fresh_database(url)
    _setup_django(url)
    from django.core.management import call_command
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    from awarding.bulk import services as bulk_services
    from badges.models import Award, BatchState, BulkBatch, BulkRow, StatusEntry
    from badges.statuslists import services as statuslist_services
    from issuers import services as issuer_services
    from tests.badges.helpers import make_published, verify_served
    from tests.base import make_cast

    print(json.dumps({"bench": "bulk.machine", **_machine()}))
    cast = make_cast()
    version_ = make_published(cast.owner, cast.issuer)
    lines = ["Email,Name,Evidence URL,Result,Language"]
    lines += [
        f"learner{n}@example.com,学员 {n},https://example.com/work/{n},{'ABC'[n % 3]},"
        f"{'zh' if n % 2 else 'en'}"
        for n in range(args.rows)
    ]
    data = ("\n".join(lines) + "\n").encode("utf-8")

    started = time.perf_counter()
    batch = bulk_services.create_batch(
        actor=cast.owner, version=version_, file_name="bench.csv", data=data, notify=False
    )
    upload = time.perf_counter() - started
    print(
        json.dumps(
            {
                "bench": "bulk.upload",
                "rows": batch.total_rows,
                "errors": batch.error_rows,
                "seconds": round(upload, 2),
            }
        )
    )

    with override_settings(BULK_PARALLEL_TASKS=0):  # this script starts the workers itself
        started = time.perf_counter()
        BulkBatch.objects.filter(pk=batch.pk).update(state=BatchState.RUNNING)
        issuer_services.active_key(cast.issuer)  # as bulk_services.start_batch does
        statuslist_services.open_lists(cast.issuer)
        processes = [
            subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
                [sys.executable, __file__, "--worker-for", str(batch.pk)],
                env={**os.environ, "BENCH_DATABASE_URL": url},
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(args.workers)
        ]
        outputs = [p.communicate()[0] for p in processes]
        issue = time.perf_counter() - started
    bulk_services.finish_if_done(batch_id=batch.pk)
    counts = dict(BulkRow.objects.filter(batch=batch).values_list("state").annotate(n=Count("pk")))
    awards = Award.objects.filter(bulk_row__batch=batch)
    duplicates = (
        BulkRow.objects.filter(batch=batch)
        .values("email")
        .annotate(n=Count("award"))
        .filter(n__gt=1)
        .count()
    )
    picked = random.sample(list(awards.values_list("credential_json", flat=True)), args.verify)
    client = Client()
    verified = sum(bool(verify_served(client, json.loads(text))) for text in picked)
    print(
        json.dumps(
            {
                "bench": "bulk.issue",
                "rows": batch.total_rows,
                "workers": args.workers,
                "seconds": round(issue, 2),
                "awards_per_sec": round(awards.count() / issue, 1),
                "end_to_end_seconds": round(upload + issue, 2),
                "target_seconds": 30,
                "row_states": counts,
                "awards": awards.count(),
                "status_entries": StatusEntry.objects.filter(award__in=awards).count(),
                "duplicated_rows": duplicates,
                "verified": f"{verified}/{len(picked)}",
                "worker_outputs": [json.loads(o) for o in outputs if o.strip()],
            }
        )
    )
    if args.serial:
        _serial_peer(cast, version_, args.serial, args.workers, awards.count() / issue)


def _serial_peer(cast: Any, version: Any, n: int, workers: int, batched_rate: float) -> None:
    """The peer in the same run: one ``award_badge`` call (one transaction) per award, as a
    single award from the console or API does, in one process."""
    from awarding import services
    from badges.services import EvidenceItem

    started = time.perf_counter()
    for serial in range(n):
        services.award_badge(
            actor=cast.owner,
            version=version,
            email=f"serial{serial}@example.com",
            name=f"学员 {serial}",
            evidence=[EvidenceItem(url=f"https://example.com/work/s{serial}")],
            result="ABC"[serial % 3],
            notify=False,
        )
    seconds = time.perf_counter() - started
    rate = n / seconds
    print(
        json.dumps(
            {
                "bench": "bulk.peer_one_at_a_time",
                "awards": n,
                "processes": 1,
                "seconds": round(seconds, 2),
                "awards_per_sec": round(rate, 1),
                "batched_awards_per_sec_per_process": round(batched_rate / workers, 1),
                "speedup_per_process": round(batched_rate / workers / rate, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
