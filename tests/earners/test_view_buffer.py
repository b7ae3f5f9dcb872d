"""Badge page views are counted in Redis and flushed into ``ViewEvent`` rows in batches
(``earners.viewcounts``): the learner's "who viewed my badge" shows the same numbers as when
each view was inserted, and a flusher killed with ``kill -9`` at any step neither loses a
view nor counts one twice. The Redis is a throw-away one of the test's own on a free port
(never the shared 6379); the flusher that is killed is a real process."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest
import redis
from django.db import connection
from django.test import Client, override_settings

from badges.models import Award
from bench._celery_drill import ROOT, free_port
from earners import selectors
from earners.models import ViewEvent
from earners.viewcounts import services as viewcounts
from tests.badges.helpers import award, make_published
from tests.base import Cast

PAGE_VIEWS, QR_SCANS, MACHINE_READS = 7, 2, 3
VIEWS = PAGE_VIEWS + QR_SCANS + MACHINE_READS
DEADLINE = 60.0  # seconds: a bound on waiting for PostgreSQL to end the killed session

FLUSHER = """
import sys, time
import django
django.setup()
from django.test.utils import override_settings
from earners.viewcounts import services as viewcounts

url, key, stop_at = sys.argv[1:4]

def stage(name):
    if name == stop_at:
        print(name, flush=True)
        time.sleep(600)  # killed here

with override_settings(INSIGNIA_VIEW_BUFFER_URL=url, INSIGNIA_VIEW_BUFFER_KEY=key):
    viewcounts.flush(stage=stage)
"""


@pytest.fixture
def badge(cast: Cast) -> Award:
    return award(cast.awarder, make_published(cast.editor, cast.issuer), email="lee@example.com")


def _view(client: Client, badge: Award) -> None:
    for _ in range(PAGE_VIEWS):
        assert client.get(f"/credentials/{badge.pk}").status_code == 200
    for _ in range(QR_SCANS):
        assert client.get(f"/credentials/{badge.pk}?src=qr").status_code == 200
    for _ in range(MACHINE_READS):
        assert client.get(f"/credentials/{badge.pk}.json").status_code == 200


def _flusher(redis_url: str, key: str, stop_at: str) -> subprocess.Popen[str]:
    database = connection.settings_dict
    env = {
        **os.environ,
        "INSIGNIA_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "insignia.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
    }
    return subprocess.Popen(
        [sys.executable, "-c", FLUSHER, redis_url, key, stop_at],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _kill_at(process: subprocess.Popen[str], stage: str) -> None:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], DEADLINE)
    assert ready, "the flusher never reached " + stage
    assert process.stdout.readline().strip() == stage
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def _flush_until_empty() -> None:
    """Flush again until nothing is pending: the first tries may find the killed flusher's
    session still open in PostgreSQL (its lock held, its transaction in progress)."""
    started = time.monotonic()
    while viewcounts.pending():
        assert time.monotonic() - started < DEADLINE, "the leftover batch was never finished"
        viewcounts.flush()
        if viewcounts.pending():
            time.sleep(0.1)


@pytest.mark.django_db
def test_buffered_views_reach_the_learners_counts(
    client: Client, view_buffer: str, badge: Award
) -> None:
    _view(client, badge)
    assert ViewEvent.objects.count() == 0  # nothing written on the request path
    assert viewcounts.pending() == VIEWS

    assert viewcounts.flush() == VIEWS

    assert viewcounts.pending() == 0
    stats = selectors.award_stats(badge)
    assert stats.total_views == VIEWS
    assert stats.by_channel == {"direct": PAGE_VIEWS, "qr": QR_SCANS, "api": MACHINE_READS}
    assert viewcounts.flush() == 0  # and only once


@pytest.mark.django_db
def test_views_of_a_deleted_award_do_not_hold_up_the_others(
    client: Client, view_buffer: str, cast: Cast, badge: Award
) -> None:
    gone = award(cast.awarder, badge.achievement_version, email="sam@example.com")
    client.get(f"/credentials/{gone.pk}")
    client.get(f"/credentials/{badge.pk}")
    ViewEvent.objects.all().delete()
    Award.objects.filter(pk=gone.pk).delete()

    assert viewcounts.flush() == 1
    assert list(ViewEvent.objects.values_list("award_id", flat=True)) == [badge.pk]


@pytest.mark.django_db
def test_without_redis_a_view_is_inserted_at_once(client: Client, badge: Award) -> None:
    with override_settings(INSIGNIA_VIEW_BUFFER_URL=""):
        client.get(f"/credentials/{badge.pk}")
    assert ViewEvent.objects.filter(award=badge).count() == 1


@pytest.mark.django_db
def test_a_redis_that_does_not_answer_costs_no_view(client: Client, badge: Award) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(INSIGNIA_VIEW_BUFFER_URL=closed):
        assert client.get(f"/credentials/{badge.pk}").status_code == 200
    assert ViewEvent.objects.filter(award=badge).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stage", ["recorded", "inserted", "committed"])
def test_a_flusher_killed_mid_flush_loses_and_doubles_nothing(
    client: Client, redis_url: str, view_buffer: str, badge: Award, stage: str
) -> None:
    _view(client, badge)
    assert viewcounts.pending() == VIEWS  # counted before the kill
    assert ViewEvent.objects.count() == 0

    _kill_at(_flusher(redis_url, view_buffer, stage), stage)
    more = Client()
    more.get(f"/credentials/{badge.pk}")  # a view while the batch is stuck: a fresh buffer
    in_database = ViewEvent.objects.count()
    assert in_database == (VIEWS if stage == "committed" else 0)
    assert viewcounts.pending() == VIEWS + 1  # the batch is still there to finish

    _flush_until_empty()

    assert ViewEvent.objects.filter(award=badge).count() == VIEWS + 1
    assert selectors.award_stats(badge).total_views == VIEWS + 1
    client_keys = redis.Redis.from_url(redis_url).keys(f"{view_buffer}*")
    assert client_keys == []


def test_the_flush_is_on_the_beat_schedule() -> None:
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "earners.tasks.flush_view_counts" in tasks
