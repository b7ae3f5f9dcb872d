"""E-mail to learners about their awards: at-least-once, and sent again only when a sender
cannot know whether the mail server took it.

Every e-mail is first an ``AwardNotification`` row, written in the award's own transaction
with a unique ``key``; the send task runs after commit. It claims the row (``SELECT … FOR
UPDATE SKIP LOCKED``: every other sender, a redelivered task or the sweeper, skips it while
the claim holds) and marks it sent in the same transaction, hands the message to the mail
server, and commits as soon as the server accepted it. A task that runs again finds the row
sent. A send that fails rolls the mark back, and the sweeper tries again later: never
silently lost. A second copy goes out only when the sender cannot know that the server
took the first: it dies, or loses its database connection, between the server's acceptance
and that commit, or its connection to the mail server breaks after the message was taken
but before the server said so. Each such death costs at most one extra copy
(``tests/badges/test_bulk_crash.py`` counts the e-mails each learner received).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import credentials
from badges.models import Award, AwardNotification, AwardStatus, BulkRow, NotificationKind, RowState
from badges.notifications import links, tasks
from common.mail import send_templated_mail
from issuers.models import Role
from issuers.permissions import require_role

logger = logging.getLogger(__name__)


def _enqueue(notification_id: int) -> None:
    transaction.on_commit(lambda: tasks.send_award_email.delay(notification_id))


def queue_award_email(
    *, award: Award, kind: str = NotificationKind.ISSUED, key: str | None = None
) -> AwardNotification:
    """Record that the learner is to be e-mailed about ``award`` and send it after commit.

    Call inside the award's transaction. The same ``key`` twice gives the same row.
    """
    notification, created = AwardNotification.objects.get_or_create(
        key=key or f"{award.pk}:{kind}", defaults={"award": award, "kind": kind}
    )
    if created:
        _enqueue(notification.pk)
    return notification


def queue_award_emails(awards: list[Award]) -> list[AwardNotification]:
    """:func:`queue_award_email` (kind "issued") for new awards of one bulk chunk: the rows
    are inserted together and one task sends them after commit."""
    notifications = AwardNotification.objects.bulk_create(
        AwardNotification(award=award, kind=NotificationKind.ISSUED, key=f"{award.pk}:issued")
        for award in awards
    )
    ids = [n.pk for n in notifications]
    if ids:
        transaction.on_commit(lambda: tasks.send_award_emails.delay(ids))
    return notifications


@transaction.atomic
def send_award_email(*, notification_id: int) -> bool:
    """Send one notification unless it was sent already; True if this call sent it.

    Everything is recorded before the mail server is given the message, so once it accepted
    the message only the commit is left (the module's docstring: what a crash can do).
    """
    notification = (
        AwardNotification.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("award__issuer", "award__achievement_version")
        .filter(pk=notification_id, sent_at__isnull=True)
        .first()
    )
    if notification is None:
        return False
    award = notification.award
    if award.status == AwardStatus.REVOKED:
        notification.last_error = "revoked before sending"
        notification.sent_at = timezone.now()
        notification.save(update_fields=["last_error", "sent_at"])
        return False
    if not award.recipient_email:  # never queued for one; kept from being sent anyway
        notification.last_error = "no e-mail address"
        notification.sent_at = timezone.now()
        notification.save(update_fields=["last_error", "sent_at"])
        return False
    notification.attempts += 1
    issuer = award.issuer
    language = award.language
    context = {
        "kind": notification.kind,
        "learner_name": award.recipient_name,
        "award_name": award.credential.get("name", ""),
        "issuer_name": issuer.name_zh
        if language.startswith("zh") and issuer.name_zh
        else issuer.name_en,
        "issuer_url": issuer.url,
        "issuer_logo": credentials.image_url(issuer.image_id) if issuer.image_id else "",
        "description": award.achievement_version.text("description", language),
        "claim_path": reverse("claim", args=[links.claim_token(award)]),
        "pixel_path": reverse("claim_opened", args=[links.open_token(notification)]),
        "credential_path": reverse("credential", args=[award.pk]),
        "valid_until": award.valid_until,
    }
    notification.sent_at = timezone.now()
    notification.save(update_fields=["attempts", "sent_at"])
    BulkRow.objects.filter(award=award, state=RowState.SIGNED).update(
        state=RowState.NOTIFIED, updated_at=timezone.now()
    )
    # Last: a failure rolls the marks above back; success leaves only the commit to do.
    send_templated_mail(
        to=award.recipient_email, template="award_issued", context=context, language=language
    )
    return True


@transaction.atomic
def mark_opened(*, notification_id: int) -> None:
    """The learner opened the e-mail (its image loaded) or followed its link."""
    AwardNotification.objects.filter(pk=notification_id, opened_at__isnull=True).update(
        opened_at=timezone.now()
    )


@transaction.atomic
def resend_award_email(*, actor: User, award: Award) -> AwardNotification:
    """E-mail the learner about ``award`` again (a new notification). Awarders and above."""
    require_role(actor, award.issuer.institution, Role.AWARDER, award.issuer)
    if award.status == AwardStatus.REVOKED:
        raise ValidationError(_("This badge is revoked; there is nothing to send."))
    if not award.recipient_email:
        raise ValidationError(
            _("This badge was awarded to a student number or sign-in name, not an address.")
        )
    return queue_award_email(award=award, key=f"{award.pk}:resend:{uuid.uuid4()}")


def queue_reminders(*, now: datetime | None = None) -> int:
    """Remind learners who have not claimed an award e-mailed more than
    ``CLAIM_REMINDER_DAYS`` ago; at most one reminder per award (its key is unique)."""
    now = now or timezone.now()
    days = settings.CLAIM_REMINDER_DAYS
    due = (
        Award.objects.exclude(recipient_email="")
        .filter(
            claimed_at__isnull=True,
            status=AwardStatus.ACTIVE,
            notifications__kind=NotificationKind.ISSUED,
            notifications__sent_at__lte=now - timedelta(days=days),
        )
        .exclude(notifications__kind=NotificationKind.REMINDER)
    )
    count = 0
    for award in due.distinct()[:1000]:
        with transaction.atomic():
            queue_award_email(award=award, kind=NotificationKind.REMINDER)
        count += 1
    return count


def log_failure(*, notification_id: int, error: Exception) -> None:
    """Keep why sending failed on the notification (the sweeper tries again)."""
    logger.warning("award e-mail %s failed: %s", notification_id, error)
    AwardNotification.objects.filter(pk=notification_id).update(last_error=str(error)[:1000])
