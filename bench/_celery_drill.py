"""Shared by the crash drills (``bench/bulk_drill.py``, ``tests/badges/test_bulk_crash.py``):
a Redis of the drill's own, a real Celery worker and beat, their pool children by PID, and
an e-mail backend that logs every message so a drill can count what was sent.

Importable before Django is set up (the drill script does so); the worker loads
``MailLogBackend`` through ``EMAIL_BACKEND`` (``PYTHONPATH`` must hold the project root).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

ROOT = Path(__file__).resolve().parent.parent
REDIS_SERVER = "/usr/bin/redis-server"
# As in production (docker-compose.yml): prefork, two pool processes. acks_late,
# reject_on_worker_lost and prefetch 1 come from the project's settings (DESIGN.md §8).
WORKER_ARGS = (
    "worker",
    "--pool",
    "prefork",
    "--concurrency",
    "2",
    "--without-gossip",
    "--without-mingle",
    "-l",
    "info",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def start_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """A throw-away redis-server on ``port`` (loopback, no persistence: a restart empties it)."""
    assert port_free(port), f"port {port} is taken"
    process = subprocess.Popen(  # noqa: S603 - a fixed local binary and arguments
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        if not port_free(port):
            return process
        time.sleep(0.05)
    raise AssertionError("redis-server did not start")


def celery_process(
    args: Sequence[str], *, env: dict[str, str], workdir: Path
) -> subprocess.Popen[bytes]:
    """``celery -A insignia <args>`` from the project root, logging to ``<args[0]>.log``."""
    log = (workdir / f"{args[0]}.log").open("ab")
    return subprocess.Popen(  # noqa: S603 - the project's own celery, fixed arguments
        [str(Path(sys.executable).parent / "celery"), "-A", "insignia", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (a worker's pool processes), from ``/proc``."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def busiest_child(pid: int, *, sample: float = 0.5) -> int | None:
    """The pool child of worker ``pid`` that used the most CPU over ``sample`` seconds: the
    one working on a task (a random one if none did)."""
    pool = children(pid)
    if not pool:
        return None
    before = {child: cpu_ticks(child) for child in pool}
    time.sleep(sample)
    used = {child: cpu_ticks(child) - before[child] for child in pool if alive(child)}
    if not used:
        return None
    most = max(used.values())
    return random.choice([child for child, ticks in used.items() if ticks == most])  # noqa: S311 - not crypto


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a warm shutdown), then SIGKILL after 20 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def kill_pids(pids: Sequence[int]) -> None:
    """``kill -9`` each of ``pids`` (recorded by the drill) that still runs."""
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------------------------
# E-mail: one JSON line per message sent, appended by any process (worker children included)
# --------------------------------------------------------------------------------------------

MAIL_LOG_ENV = "INSIGNIA_DRILL_MAIL_LOG"


class MailLogBackend(BaseEmailBackend):
    """``EMAIL_BACKEND`` for drills: appends ``{"to": [...], "subject": ..., "pid": ...}`` to
    the file named by ``$INSIGNIA_DRILL_MAIL_LOG``, one ``write`` per message (O_APPEND, so
    lines from concurrent processes never interleave)."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        path = os.environ[MAIL_LOG_ENV]
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            for message in email_messages:
                line = {"to": list(message.to), "subject": message.subject, "pid": os.getpid()}
                os.write(fd, (json.dumps(line, ensure_ascii=False) + "\n").encode())
        finally:
            os.close(fd)
        return len(email_messages)


def read_mail_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
