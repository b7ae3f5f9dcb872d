"""`make run` recovers a bulk batch whose thread died (issue 18; journeys review D31).

`make run` has no broker and no Celery beat: batches run in a thread of the server process,
and an autoreload or a crash kills that thread mid-batch. The server process runs Celery
beat's schedule itself (``insignia.beat``), so the sweeper finds the quiet batch and finishes
it. This starts ``manage.py runserver`` exactly as `make run` does (development settings,
SQLite, the autoreloader) on a throw-away database holding a batch left "running" with every
row pending and no progress for an hour, as a dead thread leaves it; nothing else works on it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench._celery_drill import free_port
from insignia import beat

ROOT = Path(__file__).resolve().parent.parent.parent
ROWS = 30
DEADLINE = 300.0  # seconds: a bound, not a timing assertion

SETUP = r"""
import datetime
from awarding.bulk import services as bulk_services
from badges.models import BatchState, BulkBatch
from django.utils import timezone
from tests.badges.helpers import make_published
from tests.base import make_cast

cast = make_cast()
version = make_published(cast.editor, cast.issuer)
data = "Email,Name\n" + "".join(f"learner{n}@example.com,学员 {n}\n" for n in range(ROWS))
batch = bulk_services.create_batch(
    actor=cast.awarder, version=version, file_name="dead-thread.csv", data=data.encode()
)
an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
BulkBatch.objects.filter(pk=batch.pk).update(
    state=BatchState.RUNNING, started_at=an_hour_ago, progress_at=an_hour_ago
)
print("BATCH " + batch.pk.hex)
""".replace("ROWS", str(ROWS))

CHECK = r"""
import json
from badges.models import Award, BulkBatch
from verification import pipeline

batch = BulkBatch.objects.get(pk="BATCH_ID")
awards = list(Award.objects.filter(bulk_row__batch=batch))
verdicts = sorted({pipeline.verify(pipeline.VerifyRequest(text=a.credential_json)).verdict
                   for a in awards})
states = sorted(set(batch.rows.values_list("state", flat=True)))
print("RESULT " + json.dumps({"state": batch.state, "awards": len(awards),
      "learners": len({a.recipient_email for a in awards}), "verdicts": verdicts,
      "row_states": states}))
"""

STARTED = re.compile(r"periodic tasks run in this process \((\d+)\)")


def _env(tmp_path: Path) -> dict[str, str]:
    prefixes = ("INSIGNIA_", "DATABASE_", "DJANGO_", "CELERY_", "BULK_", "EMAIL_", "RUN_MAIN")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(prefixes)},
        "INSIGNIA_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'insignia.sqlite3'}",
        "SECRET_KEY": "development-secret-for-the-dev-sweeper-test-" + "x" * 20,
        "INSIGNIA_KEY_ENCRYPTION_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        # Quiet for 2 s counts as lost; the sweeper looks every second.
        "BULK_STALE_SECONDS": "2",
        "BULK_SWEEP_SECONDS": "1",
    }


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _batch_state(database: Path, batch_hex: str) -> str:
    try:
        with sqlite3.connect(database, timeout=5) as db:
            row = db.execute("SELECT state FROM badges_bulkbatch WHERE id = ?", [batch_hex])
            found = row.fetchone()
    except sqlite3.OperationalError:  # the server is writing; look again
        return ""
    return str(found[0]) if found else ""


def test_make_run_finishes_a_batch_whose_thread_died(tmp_path: Path) -> None:
    env = _env(tmp_path)
    migrated = _manage(env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    setup = _manage(env, "shell", "-c", SETUP)
    assert setup.returncode == 0, setup.stderr[-3000:]
    batch_hex = next(x for x in setup.stdout.splitlines() if x.startswith("BATCH ")).split()[1]
    # Management commands never run the schedule: the batch is still untouched.
    assert not STARTED.search(migrated.stderr + setup.stderr)
    assert _batch_state(tmp_path / "insignia.sqlite3", batch_hex) == "running"

    log_path = tmp_path / "runserver.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{free_port()}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the autoreloader's child stops with it
        )
    started = time.monotonic()
    try:
        while _batch_state(tmp_path / "insignia.sqlite3", batch_hex) != "done":
            elapsed = time.monotonic() - started
            assert elapsed < DEADLINE, log_path.read_text(errors="replace")[-3000:]
            assert server.poll() is None, log_path.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        seconds = time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the group of the server this test started
        server.wait(20)
    output = log_path.read_text(errors="replace")

    checked = _manage(env, "shell", "-c", CHECK.replace("BATCH_ID", batch_hex))
    assert checked.returncode == 0, checked.stderr[-3000:]
    line = next(x for x in checked.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    assert result == {
        "state": "done",
        "awards": ROWS,
        "learners": ROWS,
        "verdicts": ["valid"],
        "row_states": ["notified"],  # each learner was e-mailed too
    }
    # The schedule runs in the autoreloader's child that serves, never in its parent, and
    # once per child (a file saved meanwhile restarts the child, and its schedule with it).
    schedulers = [int(pid) for pid in STARTED.findall(output)]
    assert schedulers, output[-3000:]
    assert server.pid not in schedulers
    assert len(set(schedulers)) == len(schedulers)
    print(  # noqa: T201 - the test's figure
        json.dumps({"test": "bulk.dev_sweeper", "rows": ROWS, "seconds": round(seconds, 1)})
    )


def test_only_runserver_serving_without_a_broker_runs_the_schedule() -> None:
    assert beat.serving_runserver(["manage.py", "runserver"], {"RUN_MAIN": "true"})
    assert beat.serving_runserver(["manage.py", "runserver", "--noreload", "0:8000"], {})
    assert not beat.serving_runserver(["manage.py", "runserver"], {})  # the reloader's parent
    assert not beat.serving_runserver(["manage.py", "migrate"], {"RUN_MAIN": "true"})
    assert not beat.serving_runserver(["pytest", "tests"], {})
    # This test process is not a server: no schedule thread runs in it.
    assert beat.THREAD_NAME not in {thread.name for thread in threading.enumerate()}
