"""Celery beat's schedule run inside the server when there is no broker (``make run``).

``make run`` serves with ``runserver`` and runs tasks in-process (``CELERY_TASK_ALWAYS_EAGER``),
so no ``celery beat`` sends the periodic tasks of ``CELERY_BEAT_SCHEDULE``: without this, a
bulk batch whose thread died with its process (an autoreload, a crash) stayed "running" for
ever, and no reminder, webhook retry or re-check ran. One daemon thread per serving process
runs every entry of that schedule at its interval instead: the same tasks, called in-process
(``Task.apply``), each soon after start and then every interval after it finished.

``insignia.apps.InsigniaConfig.ready`` starts it only in the process that serves: the
autoreloader's child (``RUN_MAIN=true``) or ``runserver --noreload``; never in the
autoreloader's parent, tests, other management commands, or when a broker is set (Celery
beat runs the schedule then).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections

from insignia.celery import app

logger = logging.getLogger(__name__)

THREAD_NAME = "insignia-beat"
FIRST_RUN_SECONDS = 5.0  # each entry first runs this soon after start (or at its interval)


def serving_runserver(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether this process is the one ``manage.py runserver`` serves requests from."""
    if len(argv) < 2 or argv[1] != "runserver":
        return False
    return environ.get("RUN_MAIN") == "true" or "--noreload" in argv[2:]


def should_start(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Run the schedule here: ``runserver``'s serving process under development settings, and
    no broker to send it to."""
    return (
        settings.DEVELOPMENT
        and bool(settings.CELERY_TASK_ALWAYS_EAGER)
        and serving_runserver(argv, environ)
    )


@dataclass
class _Entry:
    name: str
    task: str
    every: float
    due: float  # time.monotonic() when it runs next


def _seconds(schedule: object) -> float | None:
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, int | float):
        return float(schedule)
    return None  # a crontab: only Celery beat runs those


class EmbeddedBeat(threading.Thread):
    """Runs ``schedule`` (``CELERY_BEAT_SCHEDULE``'s shape) until :meth:`stop`; one task at
    a time, so a slow one delays the others but never runs twice at once."""

    def __init__(self, schedule: Mapping[str, Mapping[str, Any]]) -> None:
        super().__init__(name=THREAD_NAME, daemon=True)
        self._stopping = threading.Event()
        now = time.monotonic()
        self.entries: list[_Entry] = []
        for name, entry in schedule.items():
            every = _seconds(entry["schedule"])
            if every is None or every <= 0:
                logger.warning("periodic task %s: only Celery beat runs its schedule", name)
                continue
            self.entries.append(
                _Entry(name, entry["task"], every, now + min(every, FIRST_RUN_SECONDS))
            )

    def run(self) -> None:
        logger.info(
            "periodic tasks run in this process (%s), without Celery beat: %s",
            os.getpid(),
            ", ".join(f"{e.task} every {e.every:g} s" for e in self.entries),
        )
        app.loader.import_default_modules()  # every app's tasks, as a worker would
        while self.entries and not self._stopping.is_set():
            entry = min(self.entries, key=lambda e: e.due)
            wait = entry.due - time.monotonic()
            if wait > 0:
                self._stopping.wait(wait)
                continue
            self._run(entry)
            entry.due = time.monotonic() + entry.every

    def _run(self, entry: _Entry) -> None:
        try:
            result = app.tasks[entry.task].apply()
            if result.failed():
                logger.error("periodic task %s failed:\n%s", entry.task, result.traceback)
        except Exception:  # the schedule goes on whatever one task does
            logger.exception("periodic task %s failed", entry.task)
        finally:
            connections.close_all()  # this thread's connections only

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()
        self.join(timeout)


_running: list[EmbeddedBeat] = []
_lock = threading.Lock()


def start(schedule: Mapping[str, Mapping[str, Any]] | None = None) -> EmbeddedBeat:
    """Start the schedule's thread in this process, once (``CELERY_BEAT_SCHEDULE`` unless
    another ``schedule`` is given); returns the thread that runs it."""
    with _lock:
        alive = [beat for beat in _running if beat.is_alive()]
        if alive:
            return alive[0]
        beat = EmbeddedBeat(settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule)
        _running[:] = [beat]
        beat.start()
        return beat
