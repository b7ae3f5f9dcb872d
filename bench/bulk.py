"""Benchmark and drill: a bulk upload of N rows to signed, stored, status-indexed awards.

    .venv/bin/python bench/bulk.py [--rows 10000] [--workers 2] [--verify 200] [--serial 500]
        [--profile /tmp/bulk]

1. The ``--workers`` processes start first and wait, as Celery workers are running before
   anyone uploads (Django set up, URL patterns loaded; ``worker_start_seconds`` says how long
   that took, outside the timed part).
2. ``bulk.upload``: parse and check an N-row CSV and insert its rows (one transaction).
3. ``bulk.issue``: the workers run the issuing task on the same batch at once (chunks of
   ``BULK_CHUNK`` rows taken with ``SELECT … FOR UPDATE SKIP LOCKED``, DESIGN.md §8, in
   ``BULK_LANES`` threads each) until every row is signed; then the awards, status entries and
   duplicates are counted and ``--verify`` credentials, picked at random, are verified with the
   issuer's published key. It reports the workers' CPU seconds and those of the database's
   server processes (a local server): on a shared machine they vary less than wall time.
4. ``bulk.peer_one_at_a_time``: the peer in the same run, ``--serial`` awards one at a time.

``--profile PREFIX``: each worker runs under cProfile (``PREFIX.<pid>.prof``, for
``python -m pstats``) and reports its busiest SQL statements (cProfile slows it about
threefold, and sees the worker's first lane only).

Target (DESIGN.md §10): 10,000 rows in ≤ 10 s end to end with 2 workers on a 2-core machine.
Uses a throw-away PostgreSQL database (``BENCH_DATABASE_URL``, default ``insignia_bench_bulk``
on 127.0.0.1), dropped and created afresh. Prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import threading
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


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a local process has used so far, 0 if it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _DatabaseCpu(threading.Thread):
    """The CPU seconds the server processes of the benchmark's database use while it runs
    (a local server; 0 if their ``/proc`` entries cannot be read): polled every 0.1 s, each
    process from when it is first seen to when it is last seen."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.done.is_set():
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchall()
                for (pid,) in rows:
                    used = _cpu_seconds(pid)
                    self.first.setdefault(pid, used)
                    self.last[pid] = used
                self.done.wait(0.1)

    def stop(self) -> float:
        self.done.set()
        self.join()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def worker(url: str, profile: str = "") -> None:
    """One issuing process, as a running Celery worker is: Django set up and the URL patterns
    loaded before the batch exists (a worker is started once, not per batch; the seconds this
    took are reported as ``start_seconds``). It says it is ready, reads the batch id from
    stdin, then runs the task's body directly (no broker needed).

    With ``profile`` (a path prefix), the worker runs under cProfile (stats written to
    ``<profile>.<pid>.prof``) and times every SQL statement (``connection.execute_wrapper``),
    reporting the busiest statements: where a worker's time goes, without py-spy. cProfile
    slows the worker about threefold, so its seconds are for comparing parts only.
    """
    started = time.perf_counter()
    _setup_django(url)
    from django.urls import get_resolver

    from awarding.bulk import tasks

    get_resolver().url_patterns  # noqa: B018 - imports every view module, as a warm worker has
    print(
        json.dumps({"ready": os.getpid(), "start_seconds": round(time.perf_counter() - started, 2)})
    )
    sys.stdout.flush()
    batch_id = sys.stdin.readline().strip()
    if not profile:
        # CPU seconds of this process (all its threads): on a shared machine they vary
        # less than wall time does.
        cpu = time.process_time()
        issued = tasks.issue_batch(batch_id)
        print(
            json.dumps(
                {
                    "worker": os.getpid(),
                    "issued": issued,
                    "cpu_seconds": round(time.process_time() - cpu, 2),
                }
            )
        )
        return
    import cProfile
    import re
    from collections import defaultdict

    from django.db import connection

    statements: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = statements[re.sub(r"\s+", " ", sql)[:80]]
            entry[0] += 1
            entry[1] += time.perf_counter() - began

    profiler = cProfile.Profile()
    began = time.perf_counter()
    with connection.execute_wrapper(timed):
        profiler.enable()
        issued = tasks.issue_batch(batch_id)
        profiler.disable()
    seconds = time.perf_counter() - began
    profiler.dump_stats(f"{profile}.{os.getpid()}.prof")
    busiest = sorted(statements.items(), key=lambda item: -item[1][1])[:8]
    print(
        json.dumps(
            {
                "worker": os.getpid(),
                "issued": issued,
                "seconds": round(seconds, 2),
                "sql_seconds": round(sum(v[1] for v in statements.values()), 2),
                "sql": [
                    {"statement": sql, "runs": int(n), "seconds": round(s, 2)}
                    for sql, (n, s) in busiest
                ],
            },
            ensure_ascii=False,
        )
    )


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
    parser.add_argument(
        "--profile",
        default="",
        help="path prefix: each worker writes cProfile stats there and reports SQL timings",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if args.worker:
        worker(url, args.profile)
        return

    _fresh_database(url)
    _setup_django(url)
    from django.conf import settings
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
    # The workers start first and wait, as Celery workers run before anyone uploads.
    processes = [
        subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
            [
                sys.executable,
                __file__,
                "--worker",
                *(["--profile", args.profile] if args.profile else []),
            ],
            env={**os.environ, "BENCH_DATABASE_URL": url},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(args.workers)
    ]
    ready = [json.loads(p.stdout.readline()) for p in processes if p.stdout is not None]
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
        database_cpu = _DatabaseCpu(url)
        database_cpu.start()
        for process in processes:  # all of them at once: go
            if process.stdin is not None:
                process.stdin.write(f"{batch.pk}\n")
                process.stdin.close()
        outputs = [p.stdout.read() if p.stdout is not None else "" for p in processes]
        for process in processes:
            process.wait()
        db_cpu = database_cpu.stop()
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
                "target_seconds": 10,
                "chunk": settings.BULK_CHUNK,
                "lanes": getattr(settings, "BULK_LANES", 2),
                "row_states": counts,
                "awards": awards.count(),
                "status_entries": StatusEntry.objects.filter(award__in=awards).count(),
                "duplicated_rows": duplicates,
                "verified": f"{verified}/{len(picked)}",
                "worker_start_seconds": [r["start_seconds"] for r in ready],
                "worker_cpu_seconds": round(
                    sum(json.loads(o).get("cpu_seconds", 0) for o in outputs if o.strip()), 2
                ),
                "database_cpu_seconds": round(db_cpu, 2),
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
