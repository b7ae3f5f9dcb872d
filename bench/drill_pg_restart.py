"""PostgreSQL restart drill (research S-25): ``pg_ctlcluster … restart -m immediate`` (a
crash of the database server) in the middle of a bulk batch issued by a real Celery worker,
while a real web server answers verify requests at a steady rate.

    .venv/bin/python bench/drill_pg_restart.py [--rows 5000] [--rate 50] [--at 0.3]
        [--down-seconds 0] [--stale-seconds N] [--sweep-seconds N] [--verify 200 | --verify-all]
        [--deadline 900] [--keep-logs]

Run as root (or ``postgres``) on a machine with Debian's ``postgresql-common`` and
``redis-server``. Nothing here touches the shared server on 5432:

1. A new PostgreSQL cluster of the drill's own (``pg_createcluster`` on a free port,
   ``bench/_pg_cluster.py``) with a fresh, migrated database, and a redis-server of its own.
2. A ``celery worker`` (prefork, 2 pool processes) and ``celery beat`` (the bulk sweeper), and
   gunicorn (gthread, 2 workers x 8 threads) on a free port, all with ``DATABASE_CONN_MAX_AGE``
   60 as in production; ``CONN_HEALTH_CHECKS`` is always on (``insignia/settings.py``).
   ``--stale-seconds`` / ``--sweep-seconds`` set ``BULK_STALE_SECONDS`` / ``BULK_SWEEP_SECONDS``
   (default: the settings' own, 120 and 60).
3. ``POST /api/v1/verify`` of one of the issuer's credentials at ``--rate`` requests/s,
   open loop, from the start to 15 s after the batch is done.
4. A ``--rows`` upload (no e-mails) is issued; once ``--at`` of its rows are done the awards
   committed so far are recorded and the cluster is restarted with ``-m immediate``
   (``--down-seconds`` > 0: stopped with ``-m immediate``, started again that much later).
5. When the batch is done: every award recorded before the restart still there, each row
   awarded exactly once, no half-made award (a row marked signed without its award, an award
   whose credential has no proof or that lacks its two status entries), a sample verified
   against the DID document the server serves, and the verify traffic's 5xx window.

Prints one JSON object per line: ``pg_restart.machine``, ``pg_restart.restart``,
``pg_restart.recovered`` and ``pg_restart.result``. Exit status 1 if a committed award was lost,
a row was awarded twice or not at all, an award is half-made or does not verify, or the batch
did not finish by ``--deadline`` (2). The cluster is dropped at the end; the logs are kept
under ``/tmp/insignia-pg-restart-*`` on failure or with ``--keep-logs``.

About 430 lines: the drill, its verify-traffic generator and its oracle in one file, in the
order they run, as ``bench/bulk_drill.py``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _pg_cluster  # noqa: E402 - needs the project root on the path
from bench._celery_drill import WORKER_ARGS, celery_process, free_port, start_redis, stop  # noqa: E402
from bench.bulk_drill import _csv, _fresh_database, _machine, _verify, _wait_ready  # noqa: E402

CONN_MAX_AGE = "60"  # production's default (insignia/settings.py)
TAIL_SECONDS = 15.0  # traffic after the batch is done


def _emit(name: str, **fields: Any) -> None:
    print(json.dumps({"bench": f"pg_restart.{name}", **fields}, ensure_ascii=False), flush=True)


def _env(url: str, redis_port: int, web_port: int, args: argparse.Namespace) -> dict[str, str]:
    env = {
        **os.environ,
        "INSIGNIA_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "insignia.settings",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "DATABASE_CONN_MAX_AGE": CONN_MAX_AGE,
        "INSIGNIA_BASE_URL": f"http://127.0.0.1:{web_port}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "BULK_BACKGROUND_THREAD": "false",
        "INSIGNIA_VERIFY_RATE_LIMIT": "100000000",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "INFO",
    }
    if args.stale_seconds is not None:
        env["BULK_STALE_SECONDS"] = str(args.stale_seconds)
    if args.sweep_seconds is not None:
        env["BULK_SWEEP_SECONDS"] = str(args.sweep_seconds)
    return env


class Traffic:
    """Open-loop ``POST /api/v1/verify`` at ``rate`` per second, one thread per request
    (keep-alive off); records (sent, answered, HTTP status or 0 for no answer)."""

    def __init__(self, port: int, body: bytes, rate: float) -> None:
        self.port, self.body, self.rate = port, body, rate
        self.results: list[tuple[float, float, int]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        time.sleep(1)  # let the last requests answer

    def _run(self) -> None:
        start = time.monotonic()
        sent = 0
        while not self._stop.is_set():
            scheduled = start + sent / self.rate
            if self._stop.wait(max(0.0, scheduled - time.monotonic())):
                return
            threading.Thread(target=self._one, args=(scheduled,), daemon=True).start()
            sent += 1

    def _one(self, scheduled: float) -> None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            connection.request(
                "POST", "/api/v1/verify", self.body, {"Content-Type": "application/json"}
            )
            status = connection.getresponse().status
            connection.close()
        except OSError:
            status = 0
        with self._lock:
            self.results.append((scheduled, time.monotonic(), status))

    def summary(self, down: float, up: float) -> dict[str, Any]:
        with self._lock:
            results = list(self.results)
        bad = [(sent, done) for sent, done, status in results if status == 0 or status >= 500]
        first = min((sent for sent, _done in bad), default=None)
        last = max((done for _sent, done in bad), default=None)
        return {
            "requests": len(results),
            "by_status": dict(sorted(Counter(str(s) for _a, _b, s in results).items())),
            "errors_5xx_or_no_answer": len(bad),
            "error_window_seconds": round(last - first, 2) if bad and last and first else 0.0,
            "first_error_after_restart_seconds": round(first - down, 2) if first else None,
            "last_error_after_recovery_seconds": round(last - up, 2) if last else None,
            "outside_outage_plus_10s": sum(
                1 for sent, done in bad if sent < down - 1 or done > up + 10
            ),
        }


def _gunicorn(port: int, env: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    log = (workdir / "web.log").open("ab")
    return subprocess.Popen(  # noqa: S603 - our own gunicorn with fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "insignia.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_web(port: int, body: bytes, timeout: float = 60) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("POST", "/api/v1/verify", body, {"Content-Type": "application/json"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("the web server did not answer")


def _db(read: Any, default: Any = None) -> Any:
    """``read()``, or ``default`` while the database is away (the connection is dropped so
    the next call opens a new one)."""
    from django.db import DatabaseError, InterfaceError, connection

    try:
        return read()
    except (DatabaseError, InterfaceError):
        connection.close()
        return default


def _log_counts(workdir: Path) -> dict[str, int]:
    worker = (workdir / "worker.log").read_text(errors="replace")
    web = (workdir / "web.log").read_text(errors="replace")
    return {
        "worker_tasks_failed": len(re.findall(r"Task [\w.]+\[[^\]]+\] raised", worker)),
        "worker_database_errors": worker.count("OperationalError"),
        "worker_tasks_retried": len(re.findall(r"Task [\w.]+\[[^\]]+\] retry", worker)),
        "issue_batch_received": len(re.findall(r"issue_batch\[[^\]]+\] received", worker)),
        "web_database_errors": web.count("OperationalError"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--at", type=float, default=0.3, help="fraction of rows done")
    parser.add_argument("--down-seconds", type=float, default=0.0)
    parser.add_argument("--stale-seconds", type=int, default=None)
    parser.add_argument("--sweep-seconds", type=int, default=None)
    parser.add_argument("--verify", type=int, default=200)
    parser.add_argument("--verify-all", action="store_true")
    parser.add_argument("--deadline", type=float, default=900.0)
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="insignia-pg-restart-"))
    cluster = _pg_cluster.create("insignia_restart")
    ok = False
    try:
        ok, timed_out = _run(args, cluster, workdir)
    finally:
        cluster.drop()
        if ok and not args.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)
    if timed_out:
        return 2
    return 0 if ok else 1


def _run(
    args: argparse.Namespace, cluster: _pg_cluster.Cluster, workdir: Path
) -> tuple[bool, bool]:
    """The drill on ``cluster``; (everything held, the deadline passed)."""
    url = cluster.url("insignia_drill_restart")
    redis_port, web_port = free_port(), free_port()
    env = _env(url, redis_port, web_port, args)
    processes: list[subprocess.Popen[bytes]] = []
    ok = timed_out = False
    down = up = None
    try:
        _fresh_database(url)
        os.environ.update(env)
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.db.models import Count

        from awarding.bulk import services as bulk_services
        from badges.models import Award, BatchState, BulkBatch, BulkRow, RowState, StatusEntry
        from tests.badges.helpers import award, make_published
        from tests.base import make_cast

        call_command("migrate", verbosity=0, skip_checks=True)
        _emit(
            "machine",
            **_machine(),
            cluster=f"{cluster.version}/{cluster.name} port {cluster.port}",
            conn_max_age=settings.DATABASES["default"]["CONN_MAX_AGE"],
            conn_health_checks=settings.DATABASES["default"]["CONN_HEALTH_CHECKS"],
            bulk_stale_seconds=settings.BULK_STALE_SECONDS,
            bulk_sweep_seconds=env.get("BULK_SWEEP_SECONDS", "settings default"),
            workdir=str(workdir),
        )
        processes.append(start_redis(redis_port, workdir))  # before the first award's events
        cast = make_cast()
        version = make_published(cast.owner, cast.issuer)
        seeded = award(cast.owner, version, email="seed@example.com", notify=False)
        body = json.dumps({"credential": json.loads(seeded.credential_json)}).encode()
        connection.close()

        worker = celery_process(WORKER_ARGS, env=env, workdir=workdir)
        processes.append(worker)
        processes.append(
            celery_process(
                ("beat", "-s", str(workdir / "beat-schedule"), "-l", "info"),
                env=env,
                workdir=workdir,
            )
        )
        processes.append(_gunicorn(web_port, env, workdir))
        _wait_ready(workdir, worker)
        _wait_web(web_port, body)
        traffic = Traffic(web_port, body, args.rate)
        traffic.start()
        time.sleep(3)

        batch = bulk_services.create_batch(
            actor=cast.owner,
            version=version,
            file_name="restart.csv",
            data=_csv(args.rows),
            notify=False,
        )
        started = time.monotonic()
        bulk_services.start_batch(actor=cast.owner, batch=batch)
        rows = BulkRow.objects.filter(batch=batch)
        before: set[Any] = set()
        finished_at = resumed = None
        done_at_up = -1
        while True:
            now = time.monotonic()
            done = _db(lambda: rows.exclude(state=RowState.PENDING).count(), -1)
            if down is None and done >= args.at * args.rows:
                before = set(Award.objects.values_list("pk", flat=True))
                connection.close()
                down = time.monotonic()
                if args.down_seconds > 0:
                    cluster.ctl("stop", "-m", "immediate")
                    time.sleep(args.down_seconds)
                    cluster.ctl("start")
                else:
                    cluster.ctl("restart", "-m", "immediate")
                cluster.wait_ready()
                up = time.monotonic()
                _emit(
                    "restart",
                    mode="immediate",
                    after_rows=done,
                    awards_committed_before=len(before),
                    at_seconds=round(down - started, 1),
                    outage_seconds=round(up - down, 2),
                )
                recovered = _db(lambda: Award.objects.count(), -1)
                _emit(
                    "recovered",
                    awards_right_after=recovered,
                    committed_before_still_there=_db(
                        lambda seen=before: Award.objects.filter(pk__in=seen).count(), -1
                    ),
                )
            elif up is not None and resumed is None and done >= 0:
                if done_at_up < 0:
                    done_at_up = done
                elif done > done_at_up:
                    resumed = now - up  # the first row issued after recovery
            state = _db(lambda: BulkBatch.objects.get(pk=batch.pk).state)
            if finished_at is None and state == BatchState.DONE and down is not None:
                finished_at = now
            if finished_at is not None and now - finished_at >= TAIL_SECONDS:
                break
            if now - started > args.deadline:
                timed_out = True
                break
            time.sleep(0.1)
        traffic.stop()
    finally:
        for process in reversed(processes):
            stop(process)

    try:
        assert down is not None and up is not None, "the batch finished before the restart"
        after = set(Award.objects.values_list("pk", flat=True))
        mine = Award.objects.filter(bulk_row__batch=batch)
        per_email = (
            Award.objects.exclude(recipient_email="")
            .values("recipient_email")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
        )
        duplicates = sum(entry["n"] - 1 for entry in per_email)
        strays = Award.objects.exclude(bulk_row__batch=batch).exclude(pk=seeded.pk).count()
        lost_rows = rows.filter(award__isnull=True).count()
        signed_without_award = rows.filter(
            state__in=[RowState.SIGNED, RowState.NOTIFIED], award__isnull=True
        ).count()
        unproven = mine.exclude(credential_json__contains='"proof"').count()
        entries = StatusEntry.objects.filter(award__in=mine).values("award").annotate(n=Count("pk"))
        short_of_entries = mine.count() - sum(1 for e in entries if e["n"] == 2)
        half_made = signed_without_award + unproven + short_of_entries
        pks = list(mine.values_list("pk", flat=True))
        picked = pks if args.verify_all else random.sample(pks, min(args.verify, len(pks)))
        verified, failed = _verify(picked)
        lost_committed = len(before - after)
        batch.refresh_from_db()
        ok = not (
            lost_committed or duplicates or strays or lost_rows or half_made or failed or timed_out
        )
        _emit(
            "result",
            rows=args.rows,
            awards=mine.count(),
            committed_before=len(before),
            committed_before_lost=lost_committed,
            duplicates=duplicates + strays,
            rows_without_award=lost_rows,
            half_made=half_made,
            half_made_detail={
                "signed_row_without_award": signed_without_award,
                "credential_without_proof": unproven,
                "award_without_2_status_entries": short_of_entries,
            },
            verified=f"{verified}/{len(picked)}",
            batch_state=batch.state,
            batch_seconds=round(finished_at - started, 1) if finished_at else None,
            restart_at_seconds=round(down - started, 1),
            outage_seconds=round(up - down, 2),
            first_row_after_recovery_seconds=round(resumed, 1) if resumed is not None else None,
            traffic={"rate": args.rate, **traffic.summary(down, up)},
            logs=_log_counts(workdir),
            timed_out=timed_out,
            ok=ok,
        )
    finally:
        connection.close()
    return ok, timed_out


if __name__ == "__main__":
    sys.exit(main())
