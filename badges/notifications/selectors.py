"""Reads about award e-mails: what the sweeper must send again, and what the awards list
shows of each award's delivery."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from badges.models import Award, AwardNotification


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


def first_unopened(award: Award) -> AwardNotification | None:
    """The award's first e-mail not yet marked opened, if any."""
    return award.notifications.filter(opened_at__isnull=True).order_by("pk").first()
