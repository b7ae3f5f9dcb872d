"""E-mail to learners about their awards (issue #8): sent after commit in the learner's
language, at least once and never twice, with resends, reminders and delivery tracking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from awarding.bulk import tasks as bulk_tasks
from badges.models import AwardNotification, NotificationKind
from badges.notifications import links, services, tasks
from tests.badges.helpers import award, make_published
from tests.base import CaptureCallbacks, Cast

pytestmark = pytest.mark.django_db


def _claim_link(body: object) -> str:
    return next(line for line in str(body).splitlines() if "/claim/" in line).strip()


def test_an_award_e_mails_the_learner_in_the_badges_language_after_commit(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)

    with django_capture_on_commit_callbacks(execute=True):
        issued = award(
            cast.awarder, version, email="li.hua@example.com", name="李华", language="zh"
        )
        assert mail.outbox == []  # nothing leaves before the award is committed

    (message,) = mail.outbox
    assert message.to == ["li.hua@example.com"]
    assert "数据素养" in message.subject and "测试颁发单位" in message.subject
    assert "李华" in message.body
    assert _claim_link(message.body).endswith(reverse("claim", args=[links.claim_token(issued)]))
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    assert "测试颁发单位" in html and "opened.gif" in html
    assert issued.notifications.get().sent_at is not None


def test_a_rolled_back_award_sends_nothing(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                award(cast.awarder, version, email="gone@example.com")
                raise RuntimeError("the request failed after awarding")
        except RuntimeError:
            pass

    assert mail.outbox == []
    assert AwardNotification.objects.count() == 0


def test_a_redelivered_send_task_does_not_send_twice(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        issued = award(cast.awarder, version, email="once@example.com")
    note = issued.notifications.get()

    assert tasks.send_award_email(note.pk) is False
    services.queue_award_email(award=issued)  # the same key: the same row
    assert len(mail.outbox) == 1
    assert AwardNotification.objects.count() == 1


def test_an_e_mail_lost_before_sending_is_sent_by_the_sweeper(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version, email="lost@example.com")  # on_commit never ran
    AwardNotification.objects.filter(award=issued).update(
        created_at=timezone.now() - timedelta(hours=1)
    )

    assert bulk_tasks.sweep_bulk_batches() == {"batches": 0, "emails": 1}

    assert [m.to for m in mail.outbox] == [["lost@example.com"]]
    assert bulk_tasks.sweep_bulk_batches() == {"batches": 0, "emails": 0}


def test_unclaimed_badges_get_one_reminder_and_claimed_ones_none(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        waiting = award(cast.awarder, version, email="waiting@example.com")
        claimed = award(cast.awarder, version, email="claimed@example.com")
    claimed.claimed_at = timezone.now()
    claimed.save(update_fields=["claimed_at"])
    AwardNotification.objects.update(sent_at=timezone.now() - timedelta(days=8))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_claim_reminders() == 1
        assert tasks.send_claim_reminders() == 0

    (reminder,) = mail.outbox
    assert reminder.to == ["waiting@example.com"]
    assert reminder.subject.startswith("Reminder")
    assert waiting.notifications.filter(kind=NotificationKind.REMINDER).count() == 1


def test_the_awards_list_shows_sent_opened_and_claimed_and_can_resend(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        opened = award(cast.awarder, version, email="opened@example.com", name="Opal")
        award(cast.awarder, version, email="sent@example.com", name="Sid")
    pixel = reverse("claim_opened", args=[links.open_token(opened.notifications.get())])
    response = Client().get(pixel)
    assert response["Content-Type"] == "image/gif"
    client.force_login(cast.awarder)

    page = client.get(reverse("manage:awards", args=[cast.institution.slug])).content.decode()

    opal, sid = page.split("Opal")[1].split("</tr>")[0], page.split("Sid")[1].split("</tr>")[0]
    assert "Opened" in opal and "Sent" in sid
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("manage:award_resend", args=[cast.institution.slug, opened.pk])
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox].count(["opened@example.com"]) == 2
