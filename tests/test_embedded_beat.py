"""`make run` runs every periodic task of Celery beat's schedule in the server process
(journeys review D31; ``insignia.beat``): claim reminders, the bulk sweeper, status-list
signing, view-count flushes, the analytics fold and the rest, each at its interval."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from insignia import beat
from insignia.celery import app

SERVING: tuple[list[str], dict[str, str]] = (
    ["manage.py", "runserver", "--noreload", "127.0.0.1:8000"],
    {},
)


def test_every_scheduled_task_exists_and_runs_in_the_development_server() -> None:
    app.loader.import_default_modules()
    schedule: dict[str, dict[str, Any]] = settings.CELERY_BEAT_SCHEDULE
    missing = sorted(str(e["task"]) for e in schedule.values() if e["task"] not in app.tasks)
    embedded = beat.EmbeddedBeat(schedule)  # built, not started
    assert missing == []
    assert sorted(e.name for e in embedded.entries) == sorted(schedule)
    wanted = {
        "badges.notifications.tasks.send_claim_reminders",
        "awarding.bulk.tasks.sweep_bulk_batches",
        "badges.statuslists.tasks.sign_due_lists",
        "earners.tasks.flush_view_counts",
    }
    assert wanted <= {e.task for e in embedded.entries}


@pytest.mark.parametrize(
    ("overrides", "starts"),
    [
        ({"DEVELOPMENT": True, "CELERY_TASK_ALWAYS_EAGER": True}, True),
        ({"DEVELOPMENT": True, "CELERY_TASK_ALWAYS_EAGER": False}, False),  # a broker: beat
        ({"DEVELOPMENT": False, "CELERY_TASK_ALWAYS_EAGER": True}, False),  # tests, production
    ],
)
def test_only_the_development_server_without_a_broker_starts_it(
    overrides: dict[str, Any], starts: bool
) -> None:
    with override_settings(**overrides):
        assert beat.should_start(*SERVING) is starts
        assert not beat.should_start(["manage.py", "seed_demo"], {"RUN_MAIN": "true"})


def test_the_thread_runs_a_due_task_and_stops() -> None:
    ran = threading.Event()

    @app.task(name="tests.embedded_beat.tick")
    def tick() -> None:
        ran.set()

    embedded = beat.EmbeddedBeat({"tick": {"task": "tests.embedded_beat.tick", "schedule": 0.01}})
    embedded.start()
    try:
        assert ran.wait(30), "the scheduled task never ran"
    finally:
        embedded.stop(timeout=30)
    assert not embedded.is_alive()
