"""E-mail to learners about their awards (issue #8): at-least-once and deduplicated.

Every e-mail is first an ``AwardNotification`` row, written in the award's own transaction
with a unique ``key``; the send task runs after commit, locks the row, sends, and records
``sent_at``. A task that runs twice (redelivery, the sweeper) finds the row already sent. A
crash between sending and recording sends again: at-least-once, never silently lost.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import credentials
from badges.models import Award, AwardNotification, AwardStatus, BulkRow, NotificationKind, RowState
from insignia.mail import send_templated_mail
from issuers.models import Role
from issuers.permissions import require_role

logger = logging.getLogger(__name__)

_CLAIM_SALT = "insignia.badges.claim"
_OPEN_SALT = "insignia.badges.opened"


def claim_token(award: Award) -> str:
    """The token in the claim link: the award's id, signed (no database lookup to forge)."""
    return signing.Signer(salt=_CLAIM_SALT).sign(str(award.pk))


def award_for_token(token: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(signing.Signer(salt=_CLAIM_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def open_token(notification: AwardNotification) -> str:
    return signing.Signer(salt=_OPEN_SALT).sign(str(notification.pk))


def notification_for_token(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=_OPEN_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def _enqueue(notification_id: int) -> None:
    from badges import tasks

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
        from badges import tasks

        transaction.on_commit(lambda: tasks.send_award_emails.delay(ids))
    return notifications


@transaction.atomic
def send_award_email(*, notification_id: int) -> bool:
    """Send one notification unless it was sent already; True if this call sent it."""
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
        "claim_path": reverse("claim", args=[claim_token(award)]),
        "pixel_path": reverse("claim_opened", args=[open_token(notification)]),
        "credential_path": reverse("credential", args=[award.pk]),
        "valid_until": award.valid_until,
    }
    send_templated_mail(
        to=award.recipient_email, template="award_issued", context=context, language=language
    )
    notification.sent_at = timezone.now()
    notification.save(update_fields=["attempts", "sent_at"])
    BulkRow.objects.filter(award=award, state=RowState.SIGNED).update(
        state=RowState.NOTIFIED, updated_at=timezone.now()
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
    return queue_award_email(award=award, key=f"{award.pk}:resend:{uuid.uuid4()}")


def queue_reminders(*, now: datetime | None = None) -> int:
    """Remind learners who have not claimed an award e-mailed more than
    ``CLAIM_REMINDER_DAYS`` ago; at most one reminder per award (its key is unique)."""
    now = now or timezone.now()
    days = int(getattr(settings, "CLAIM_REMINDER_DAYS", 7))
    due = Award.objects.filter(
        claimed_at__isnull=True,
        status=AwardStatus.ACTIVE,
        notifications__kind=NotificationKind.ISSUED,
        notifications__sent_at__lte=now - timedelta(days=days),
    ).exclude(notifications__kind=NotificationKind.REMINDER)
    count = 0
    for award in due.distinct()[:1000]:
        with transaction.atomic():
            queue_award_email(award=award, kind=NotificationKind.REMINDER)
        count += 1
    return count


def unsent_ids(*, older_than: timedelta) -> list[int]:
    """Notifications still unsent after ``older_than``: the sweeper sends them again."""
    cutoff = timezone.now() - older_than
    return list(
        AwardNotification.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )


def delivery(award: Award) -> dict[str, object]:
    """What the awards list shows: when the learner was e-mailed, opened it, claimed it."""
    notes = list(award.notifications.all())
    sent = [n.sent_at for n in notes if n.sent_at]
    opened = [n.opened_at for n in notes if n.opened_at]
    return {
        "sent_at": max(sent) if sent else None,
        "opened_at": min(opened) if opened else None,
        "claimed_at": award.claimed_at,
        "pending": any(n.sent_at is None for n in notes),
    }


def log_failure(notification_id: int, error: Exception) -> None:
    logger.warning("award e-mail %s failed: %s", notification_id, error)
    AwardNotification.objects.filter(pk=notification_id).update(last_error=str(error)[:1000])
