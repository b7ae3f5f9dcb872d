"""An award e-mail is claimed before it is sent (issue 18): while one sender holds it, every
other sender (a redelivered task, the sweeper) skips it; a send the mail server refused is
not marked sent, and the sweeper sends it later, once."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from awarding.bulk import tasks as bulk_tasks
from badges.models import AwardNotification
from badges.notifications import services, tasks
from tests.badges.helpers import award, make_published
from tests.base import Cast

HERE = "tests.badges.test_notification_claim"
entered = threading.Event()
release = threading.Event()
delivered: list[tuple[str, list[str]]] = []


class HeldBackend(BaseEmailBackend):
    """A mail server that takes its time: it accepts a message once ``release`` is set."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        entered.set()
        assert release.wait(30)
        delivered.extend((threading.current_thread().name, m.to) for m in email_messages)
        return len(email_messages)


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def _waiting_notification(cast: Cast) -> AwardNotification:
    """An award whose e-mail is due: its send task was lost (as if it never ran)."""
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version, email="claimed@example.com")
    note = issued.notifications.get()
    AwardNotification.objects.filter(pk=note.pk).update(
        created_at=timezone.now() - timedelta(hours=1), sent_at=None, attempts=0
    )
    mail.outbox.clear()
    return note


@pytest.mark.django_db(transaction=True)
def test_a_second_sender_skips_an_e_mail_another_is_sending(cast: Cast) -> None:
    note = _waiting_notification(cast)
    entered.clear()
    release.clear()
    delivered.clear()
    outcome: list[bool] = []

    def first_sender() -> None:
        try:
            outcome.append(tasks.send_award_email(note.pk))
        finally:
            connection.close()

    with override_settings(EMAIL_BACKEND=f"{HERE}.HeldBackend"):
        sender = threading.Thread(target=first_sender, name="first")
        sender.start()
        try:
            assert entered.wait(30)  # the first sender is talking to the mail server
            # The redelivered task and the sweeper meanwhile: both leave it alone.
            assert tasks.send_award_email(note.pk) is False
            assert bulk_tasks.sweep_bulk_batches() == {"batches": 0, "emails": 1}
        finally:
            release.set()
            sender.join(30)
        assert outcome == [True]
        # Afterwards it is sent: nothing sends it again.
        assert tasks.send_award_email(note.pk) is False
        assert bulk_tasks.sweep_bulk_batches() == {"batches": 0, "emails": 0}

    assert delivered == [("first", ["claimed@example.com"])]
    note.refresh_from_db()
    assert note.sent_at is not None
    assert note.attempts == 1


@pytest.mark.django_db
def test_an_e_mail_the_server_refused_is_sent_later_by_the_sweeper_once(cast: Cast) -> None:
    note = _waiting_notification(cast)

    with override_settings(EMAIL_BACKEND=f"{HERE}.RefusingBackend"):
        assert tasks.send_award_email(note.pk) is False
    note.refresh_from_db()
    assert note.sent_at is None  # not marked sent: the mark rolled back with the failure
    assert "unexpectedly closed" in note.last_error

    assert bulk_tasks.sweep_bulk_batches() == {"batches": 0, "emails": 1}
    assert bulk_tasks.sweep_bulk_batches() == {"batches": 0, "emails": 0}
    assert [m.to for m in mail.outbox] == [["claimed@example.com"]]
    note.refresh_from_db()
    assert note.sent_at is not None
    assert services.send_award_email(notification_id=note.pk) is False
