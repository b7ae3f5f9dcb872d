"""Crash drill: a bulk upload issued by a real Celery worker that is killed with ``kill -9``
along the way, then checked for exactly-once (DESIGN.md §8, research S-23).

    .venv/bin/python bench/bulk_drill.py [--rows 10000] [--verify 200 | --verify-all]
        [--plan child:0.15,child:0.35,main:0.55,child:0.75] [--stale-seconds 30]
        [--sweep-seconds 5] [--deadline 3600] [--orphans-live] [--keep-logs]

1. A throw-away PostgreSQL database (``BENCH_DATABASE_URL``, default
   ``postgres://postgres@127.0.0.1:5432/insignia_bench_drill``) is dropped, created and
   migrated; a redis-server of the drill's own runs on a free loopback port.
2. A real ``celery worker`` (prefork, 2 pool processes; ``acks_late``,
   ``task_reject_on_worker_lost``, prefetch 1 from the settings, as in production) and
   ``celery beat`` (the sweeper, every ``--sweep-seconds``; a batch or e-mail quiet for
   ``--stale-seconds`` is re-enqueued) start. E-mail goes to a log file, one line a message.
3. ``--rows`` rows are uploaded (``create_batch``, e-mail on) and issued (``start_batch``).
4. The ``--plan``: at each fraction of rows done, ``kill -9`` of a pool child (the busiest,
   by its PID) or of the main worker process. After a main kill the drill does what the
   supervisor of ``docker-compose.yml`` does: the worker is PID 1 of its container, so its
   pool children die with it (``kill -9`` by their recorded PIDs; ``--orphans-live`` leaves
   them running instead), and a new worker is started at once.
5. It waits until the batch is done and every learner was e-mailed, then reports.

Prints one JSON object per line: ``bulk_drill.machine``, ``bulk_drill.upload``, one
``bulk_drill.kill`` per kill as it happens, and ``bulk_drill.result`` — rows, awards,
duplicates and lost (both must be 0), rows not signed, e-mails sent against expected,
credentials verified (a random ``--verify`` sample, or all with ``--verify-all``), seconds
from start to done, and the kills. Exit status 1 if an award was lost or duplicated, an
e-mail is missing (or sent twice more often than kills allow), or a credential does not
verify; 2 if ``--deadline`` passed first. Logs: kept under ``/tmp/insignia-drill-*`` on
failure or with ``--keep-logs``.

The recorded drill is 10,000 rows with 3 child kills and 1 main kill (the default); CI runs
the smaller ``tests/badges/test_bulk_crash.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._celery_drill import (  # noqa: E402 - needs the project root on the path
    MAIL_LOG_ENV,
    WORKER_ARGS,
    alive,
    busiest_child,
    celery_process,
    children,
    free_port,
    kill_pids,
    read_mail_log,
    start_redis,
    stop,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/insignia_bench_drill"
DEFAULT_PLAN = "child:0.15,child:0.35,main:0.55,child:0.75"


@dataclass(frozen=True)
class Kill:
    kind: str  # "child" or "main"
    fraction: float  # of rows done


def parse_plan(text: str) -> list[Kill]:
    plan = []
    for item in text.split(","):
        kind, _, fraction = item.strip().partition(":")
        if kind not in {"child", "main"} or not 0 <= float(fraction) < 1:
            raise argparse.ArgumentTypeError(f"bad kill {item!r}: child:0.15 or main:0.55")
        plan.append(Kill(kind, float(fraction)))
    return sorted(plan, key=lambda kill: kill.fraction)


def _emit(name: str, **fields: Any) -> None:
    print(json.dumps({"bench": f"bulk_drill.{name}", **fields}, ensure_ascii=False), flush=True)


def _env(url: str, port: int, workdir: Path, args: argparse.Namespace) -> dict[str, str]:
    return {
        **os.environ,
        "INSIGNIA_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "insignia.settings",
        "PYTHONPATH": str(ROOT),  # the worker loads bench._celery_drill.MailLogBackend
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "BULK_BACKGROUND_THREAD": "false",
        "EMAIL_BACKEND": "bench._celery_drill.MailLogBackend",
        MAIL_LOG_ENV: str(workdir / "mail.jsonl"),
        "BULK_STALE_SECONDS": str(args.stale_seconds),
        "BULK_SWEEP_SECONDS": str(args.sweep_seconds),
    }


def _fresh_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _machine() -> dict[str, Any]:
    from django.db import connection

    model = platform.processor() or "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        row = cursor.fetchone()
    redis = subprocess.run(
        ["/usr/bin/redis-server", "--version"], capture_output=True, text=True, check=False
    ).stdout.split()
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "django": version("django"),
        "celery": version("celery"),
        "kombu": version("kombu"),
        "postgres": str(row[0]) if row else "unknown",
        "redis": next((w[2:] for w in redis if w.startswith("v=")), "unknown"),
    }


def _csv(rows: int) -> bytes:
    lines = ["Email,Name,Evidence URL,Result,Language"]
    lines += [
        f"learner{n}@example.com,学员 {n},https://example.com/work/{n},{'ABC'[n % 3]},"
        f"{'zh' if n % 2 else 'en'}"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _wait_ready(workdir: Path, worker: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Until the worker's log says it is ready (after this start) and its pool is up."""
    log = workdir / "worker.log"
    seen = log.read_text(errors="replace").count(" ready.") if log.exists() else 0
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert worker.poll() is None, f"the worker exited; see {log}"
        text = log.read_text(errors="replace") if log.exists() else ""
        if text.count(" ready.") > seen and len(children(worker.pid)) >= 2:
            return
        time.sleep(0.2)
    raise AssertionError(f"the worker did not start; see {log}")


class Drill:
    """The processes of one drill and what happened to them."""

    def __init__(self, workdir: Path, env: dict[str, str], args: argparse.Namespace) -> None:
        self.workdir = workdir
        self.env = env
        self.args = args
        self.workers: list[subprocess.Popen[bytes]] = []
        self.pool_pids: set[int] = set()  # every pool child seen, to clean up by PID
        self.kills: list[dict[str, Any]] = []

    @property
    def worker(self) -> subprocess.Popen[bytes]:
        return self.workers[-1]

    def start_worker(self) -> None:
        self.workers.append(celery_process(WORKER_ARGS, env=self.env, workdir=self.workdir))

    def kill(self, kill: Kill, *, done: int, at: float) -> dict[str, Any]:
        main = self.worker.pid
        self.pool_pids.update(children(main))
        if kill.kind == "child":
            victim = busiest_child(main, sample=0.1)
            assert victim is not None, "the worker has no pool children"
            os.kill(victim, signal.SIGKILL)
            return {"kind": "child", "pid": victim, "worker": main, "after_rows": done, "at": at}
        pool = children(main)
        os.kill(main, signal.SIGKILL)
        self.worker.wait(10)
        if not self.args.orphans_live:  # the container's PID namespace ends with its PID 1
            kill_pids(pool)
            deadline = time.monotonic() + 10
            while any(alive(pid) for pid in pool) and time.monotonic() < deadline:
                time.sleep(0.05)
        self.start_worker()  # restart: unless-stopped
        return {
            "kind": "main",
            "pid": main,
            "pool": pool,
            "pool_killed": not self.args.orphans_live,
            "restarted_as": self.worker.pid,
            "after_rows": done,
            "at": at,
        }

    def stop_all(self) -> None:
        for worker in self.workers:
            stop(worker)
        kill_pids(sorted(self.pool_pids))  # orphans of a killed worker, by recorded PID


def _verify(pks: list[uuid.UUID]) -> tuple[int, int]:
    """Verify the credentials of ``pks`` as an outside verifier: the key from the DID
    document the server serves for the issuer. Returns (verified, failed)."""
    from django.test import Client

    from badges.models import Award
    from openbadges import dataintegrity, multikey
    from tests.badges.helpers import served_did_document

    client = Client()
    documents: dict[str, dict[str, Any]] = {}
    keys: dict[str, Any] = {}
    verified = failed = 0
    for start in range(0, len(pks), 500):
        chunk = Award.objects.filter(pk__in=pks[start : start + 500])
        for text in chunk.values_list("credential_json", flat=True):
            credential = json.loads(text)
            issuer = credential["issuer"]["id"]
            method_id = credential["proof"][0]["verificationMethod"]
            if issuer not in documents:
                documents[issuer] = served_did_document(client, issuer)
            document = documents[issuer]
            method = next((m for m in document["verificationMethod"] if m["id"] == method_id), None)
            if method is None or method_id not in document.get("assertionMethod", []):
                failed += 1
                continue
            if method_id not in keys:
                keys[method_id] = multikey.public_key_from_bytes(
                    multikey.decode_public_multibase(method["publicKeyMultibase"])
                )
            result = dataintegrity.verify(
                credential, public_key=keys[method_id], verification_method=method_id
            )
            verified += bool(result)
            failed += not result
    return verified, failed


def _task_counts(workdir: Path) -> dict[str, dict[str, int]]:
    """From the worker and beat logs: each task's messages received and runs that finished
    (the difference died with a killed process), and how often beat sent each task."""
    worker = (workdir / "worker.log").read_text(errors="replace")
    beat_log = workdir / "beat.log"
    beat = beat_log.read_text(errors="replace") if beat_log.exists() else ""
    counts: dict[str, dict[str, int]] = {}
    for name, event in re.findall(r"Task ([\w.]+)\[[^\]]+\] (received|succeeded)", worker):
        entry = counts.setdefault(name.rsplit(".", 1)[-1], {"received": 0, "succeeded": 0})
        entry[event] += 1
    for name in re.findall(r"Sending due task \S+ \(([\w.]+)\)", beat):
        entry = counts.setdefault(name.rsplit(".", 1)[-1], {"received": 0, "succeeded": 0})
        entry["sent_by_beat"] = entry.get("sent_by_beat", 0) + 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--verify", type=int, default=200, help="random credentials to verify")
    parser.add_argument("--verify-all", action="store_true")
    parser.add_argument("--plan", type=parse_plan, default=parse_plan(DEFAULT_PLAN))
    parser.add_argument("--stale-seconds", type=int, default=30)
    parser.add_argument("--sweep-seconds", type=int, default=5)
    parser.add_argument("--deadline", type=float, default=3600.0)
    parser.add_argument("--orphans-live", action="store_true")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    workdir = Path(tempfile.mkdtemp(prefix="insignia-drill-"))
    port = free_port()
    env = _env(url, port, workdir, args)
    _fresh_database(url)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from awarding.bulk import services as bulk_services
    from badges.models import Award, BatchState, BulkBatch, BulkRow, RowState, StatusEntry
    from tests.badges.helpers import make_published
    from tests.base import make_cast

    call_command("migrate", verbosity=0, skip_checks=True)
    _emit("machine", **_machine(), workdir=str(workdir))
    cast = make_cast()
    achievement = make_published(cast.owner, cast.issuer)

    redis = start_redis(port, workdir)
    drill = Drill(workdir, env, args)
    beat: subprocess.Popen[bytes] | None = None
    timed_out = False
    try:
        drill.start_worker()
        beat = celery_process(
            ("beat", "-s", str(workdir / "beat-schedule"), "-l", "info"), env=env, workdir=workdir
        )
        _wait_ready(workdir, drill.worker)

        clock = time.monotonic()
        batch = bulk_services.create_batch(
            actor=cast.owner,
            version=achievement,
            file_name="drill.csv",
            data=_csv(args.rows),
            notify=True,
        )
        upload = time.monotonic() - clock
        _emit("upload", rows=batch.total_rows, errors=batch.error_rows, seconds=round(upload, 2))
        assert batch.error_rows == 0, "the drill's own CSV has errors"

        started = time.monotonic()
        bulk_services.start_batch(actor=cast.owner, batch=batch)
        rows = BulkRow.objects.filter(batch=batch)
        plan = list(args.plan)
        waiting: list[dict[str, Any]] = []  # kills whose next progress is not seen yet
        last_done = 0
        issued_at: float | None = None
        while True:
            now = time.monotonic() - started
            done = rows.exclude(state=RowState.PENDING).count()
            if done > last_done:
                for record in waiting:
                    record["next_progress_after"] = round(now - record["at"], 1)
                waiting.clear()
                last_done = done
            if plan and done >= plan[0].fraction * args.rows and issued_at is None:
                record = drill.kill(plan.pop(0), done=done, at=round(now, 1))
                _emit("kill", **record)
                drill.kills.append(record)
                waiting.append(record)
            if issued_at is None and (
                BulkBatch.objects.filter(pk=batch.pk, state=BatchState.DONE).exists()
            ):
                issued_at = now
            unsent = rows.filter(state__in=[RowState.PENDING, RowState.SIGNED]).exists()
            if issued_at is not None and not unsent:
                break
            if now > args.deadline:
                timed_out = True
                break
            time.sleep(0.05)
        emailed_at = time.monotonic() - started
    finally:
        if beat is not None:
            stop(beat)
        drill.stop_all()
        stop(redis)

    # The oracle (research S-23): every row awarded once, every learner e-mailed, all verify.
    states = dict(rows.values_list("state").annotate(n=Count("pk")))
    awards = Award.objects.filter(bulk_row__batch=batch)
    # The drill's rows all have an address; an award to an identifier only has none to count.
    with_email = Award.objects.exclude(recipient_email="")
    per_email = with_email.values("recipient_email").annotate(n=Count("pk")).filter(n__gt=1)
    duplicates = sum(entry["n"] - 1 for entry in per_email)
    strays = Award.objects.exclude(bulk_row__batch=batch).count()  # awards without a row
    lost = rows.filter(award__isnull=True).count()
    not_signed = rows.exclude(state__in=[RowState.SIGNED, RowState.NOTIFIED]).count()
    awarded = set(awards.exclude(recipient_email="").values_list("recipient_email", flat=True))
    mail = read_mail_log(workdir / "mail.jsonl")
    mailed = [address for line in mail for address in line["to"]]
    missing = len(awarded - set(mailed))
    mail_duplicates = len(mailed) - len(set(mailed))
    allowed = sum(2 if k["kind"] == "main" else 1 for k in drill.kills)  # in-flight tasks
    pks = list(awards.values_list("pk", flat=True))
    picked = pks if args.verify_all else random.sample(pks, min(args.verify, len(pks)))
    verified, failed = _verify(picked)
    award_count = awards.count()
    ok = not (duplicates or strays or lost or missing or failed or mail_duplicates > allowed)
    _emit(
        "result",
        rows=batch.total_rows,
        awards=award_count,
        duplicates=duplicates + strays,
        lost=lost,
        rows_not_signed=not_signed,
        row_states=states,
        status_entries=StatusEntry.objects.filter(award__bulk_row__batch=batch).count(),
        emails_expected=len(awarded),
        emails_sent=len(mailed),
        emails_missing=missing,
        emails_duplicated=mail_duplicates,
        emails_duplicated_allowed=allowed,
        verified=f"{verified}/{len(picked)}",
        upload_seconds=round(upload, 2),
        issue_seconds=round(issued_at, 1) if issued_at is not None else None,
        awards_per_sec=round(award_count / issued_at, 1) if issued_at else None,
        emailed_seconds=round(emailed_at, 1),
        kills=drill.kills,
        kills_skipped=[f"{k.kind}:{k.fraction}" for k in plan],
        stale_seconds=args.stale_seconds,
        sweep_seconds=args.sweep_seconds,
        tasks=_task_counts(workdir),
        timed_out=timed_out,
        ok=ok and not timed_out,
    )
    if ok and not timed_out and not args.keep_logs:
        shutil.rmtree(workdir, ignore_errors=True)
    if timed_out:
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
