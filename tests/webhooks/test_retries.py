"""A receiver that is down does not lose events: deliveries back off over a day with the same
``webhook-id``, a dead endpoint is switched off and its owners told, and a worker killed in the
middle of a POST leaves the delivery to another (the clock is moved by hand; nothing sleeps)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from celery import current_app
from django.core import mail
from django.db import connection
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from events.models import Event
from issuers.models import AuditAction, AuditEvent
from tests.badges.helpers import award, make_published
from tests.base import CaptureCallbacks, Cast
from tests.webhooks.receiver import Receiver
from webhooks import services
from webhooks.models import Attempt, Delivery, DeliveryStatus, DisabledReason, Endpoint
from webhooks.outbox import services as outbox

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _due(endpoint: Endpoint) -> list[Delivery]:
    return list(
        Delivery.objects.filter(
            endpoint=endpoint, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
        ).order_by("next_attempt_at")
    )


def test_a_receiver_down_for_an_hour_gets_the_event_when_it_is_back(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    port = receiver.port
    receiver.stop()  # connection refused
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        given = award(cast.awarder, version)  # the first attempt, at once, fails
    (sent,) = Delivery.objects.filter(endpoint=endpoint)
    assert (sent.status, sent.attempts) == (DeliveryStatus.FAILED, 1)
    assert "cannot connect" in sent.last_error
    started = sent.first_attempt_at
    assert started is not None

    waits = []
    back = False
    while sent.next_attempt_at is not None and sent.next_attempt_at < started + timedelta(hours=1):
        if not back and sent.next_attempt_at > started + timedelta(minutes=20):
            receiver.status = 500  # up again after 20 minutes, but answering 500
            receiver.start(port)
            back = True
        now = sent.next_attempt_at
        assert outbox.deliver_due(now=now) == 1
        sent.refresh_from_db()
        assert sent.status == DeliveryStatus.FAILED
        assert sent.next_attempt_at is not None
        waits.append(sent.next_attempt_at - now)
    # 5 s, 30 s, 2 min, 10 min, 30 min (each ±20 %), then 1 h: back-off grows.
    schedule = outbox.RETRY_DELAYS
    for n, wait in enumerate(waits, start=1):
        assert schedule[n] * 0.8 <= wait <= schedule[n] * 1.2, (n, wait)
    assert len(waits) >= 4
    assert back and receiver.received  # the receiver was up, answering 500, before the end

    receiver.status = 200  # fixed
    back_at = sent.next_attempt_at
    assert outbox.deliver_due(now=back_at) == 1
    sent.refresh_from_db()
    assert (sent.status, sent.delivered_at, sent.last_status_code) == (
        DeliveryStatus.SUCCEEDED,
        back_at,
        200,
    )
    event = Event.objects.get(subject=str(given.pk))
    assert receiver.received, "the receiver never heard of the award"
    assert {r.id for r in receiver.received} == {event.webhook_id}
    assert all(r.verified for r in receiver.received)
    assert [r.json["data"]["award_id"] for r in receiver.received][-1] == str(given.pk)
    history = list(Attempt.objects.filter(delivery=sent).order_by("at"))
    assert len(history) == sent.attempts
    assert [a.succeeded for a in history] == [False] * (len(history) - 1) + [True]
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.consecutive_failures, endpoint.failing_since) == (
        True,
        0,
        None,
    )


def test_after_a_day_of_failures_deliveries_are_dead_and_the_endpoint_is_disabled(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    settings: SettingsWrapper,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    settings.WEBHOOK_DISABLE_AFTER_DEAD = 2
    receiver.status = 500
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        first = award(cast.awarder, version, email="ann@example.com")
        award(cast.awarder, version, email="bob@example.com")
    while due := _due(endpoint):
        with django_capture_on_commit_callbacks(execute=True):
            outbox.deliver_due(now=due[0].next_attempt_at)

    dead = list(Delivery.objects.filter(endpoint=endpoint))
    assert [d.status for d in dead] == [DeliveryStatus.DEAD] * 2
    for row in dead:
        assert row.first_attempt_at is not None and row.last_attempt_at is not None
        assert row.last_attempt_at - row.first_attempt_at >= timedelta(hours=24)
        assert row.last_attempt_at - row.first_attempt_at < timedelta(hours=25)
        assert row.attempts >= 10
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, DisabledReason.FAILING)
    (told,) = [m for m in mail.outbox if m.to == [cast.owner.email]]
    assert endpoint.url in told.subject and endpoint.url in told.body
    assert AuditEvent.objects.filter(
        action=AuditAction.WEBHOOK_DISABLED, actor=None, institution=cast.institution
    ).exists()

    # Switched off, it is sent nothing and keeps nothing for later.
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, version, email="cy@example.com")
    assert Delivery.objects.filter(endpoint=endpoint).count() == 2
    # The receiver is fixed; the owner enables the endpoint and sends a dead delivery again.
    receiver.status = 200
    receiver.received.clear()
    services.enable_endpoint(actor=cast.owner, endpoint=endpoint)
    redone = Delivery.objects.get(endpoint=endpoint, event__subject=str(first.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.redeliver(actor=cast.owner, delivery=redone)
    (got,) = receiver.received
    assert got.verified and got.id == Event.objects.get(pk=redone.event_id).webhook_id
    redone.refresh_from_db()
    assert redone.status == DeliveryStatus.SUCCEEDED


def test_three_days_of_failures_disable_an_endpoint_too(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    receiver.status = 503
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, version, email="ann@example.com")
    while due := _due(endpoint):
        outbox.deliver_due(now=due[0].next_attempt_at)
    endpoint.refresh_from_db()
    assert endpoint.enabled  # one dead delivery is not enough
    assert endpoint.failing_since is not None
    later = endpoint.failing_since + timedelta(hours=73)
    award(cast.awarder, version, email="bob@example.com")
    outbox.fan_out(now=later)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.deliver_due(now=later)
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, DisabledReason.FAILING)
    assert len([m for m in mail.outbox if m.to == [cast.owner.email]]) == 1


@pytest.fixture
def tasks_queued() -> Iterator[None]:
    """Tasks go to the (in-memory) broker instead of running in place: here a separate
    process, not this one, is the worker."""
    conf = current_app.conf
    eager = conf.task_always_eager
    conf.task_always_eager = False
    yield
    conf.task_always_eager = eager


def _worker(settings: SettingsWrapper) -> subprocess.Popen[bytes]:
    """``manage.py deliver_webhooks`` in a process of its own, reaching the test receiver."""
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    env = {
        **os.environ,
        "INSIGNIA_ENV": "test",
        "DATABASE_URL": f"postgres://{database['USER']}{password}@{database['HOST']}:"
        f"{database['PORT']}/{database['NAME']}",
    }
    script = (
        "from django.conf import settings\n"
        "from django.core.management import call_command\n"
        f"settings.INSIGNIA_FETCH_ALLOWLIST = {dict(settings.INSIGNIA_FETCH_ALLOWLIST)!r}\n"
        "call_command('deliver_webhooks')\n"
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_nothing(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    settings: SettingsWrapper,
    tasks_queued: None,
) -> None:
    version = make_published(cast.editor, cast.issuer)
    given = award(cast.awarder, version)  # committed; dispatch is queued, not run here
    event = Event.objects.get(subject=str(given.pk))
    receiver.holding.set()  # the receiver reads the request and does not answer

    worker = _worker(settings)
    try:
        arrived = receiver.arrived.wait(120)
        assert arrived, "the worker never sent the delivery"
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate()
    receiver.holding.clear()
    receiver.release.set()

    held = Delivery.objects.get(event=event, endpoint=endpoint)
    assert (held.status, held.attempts) == (DeliveryStatus.PENDING, 1)
    assert held.locked_until is not None
    # While the dead worker's lease lasts nobody takes the delivery...
    assert outbox.deliver_due(now=timezone.now()) == 0
    # ...and once it has run out, the next worker does.
    assert outbox.deliver_due(now=held.locked_until + timedelta(seconds=1)) == 1
    held.refresh_from_db()
    assert (held.status, held.attempts, held.last_status_code) == (
        DeliveryStatus.SUCCEEDED,
        2,
        200,
    )
    assert [r.id for r in receiver.received] == [event.webhook_id, event.webhook_id]
    assert all(r.verified for r in receiver.received)
    assert Delivery.objects.filter(endpoint=endpoint).count() == 1
