"""The outbox of things that happened to an institution's badges (a transactional outbox).

A service writes an :class:`Event` in the same transaction as the change it announces, so an
event exists exactly when its change committed. ``webhooks`` fans each new event out into
deliveries to the institution's endpoints and sends them; this app knows nothing of that.
The event's id is the Standard Webhooks ``webhook-id`` (``msg_<hex>``): the same on every
retry and redelivery, so receivers can drop duplicates.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from issuers.models import Institution, Issuer


class EventType(models.TextChoices):
    """What a receiver can subscribe to; the value is the payload's ``type``."""

    AWARD_ISSUED = "award.issued", _("Badge awarded")
    AWARD_CLAIMED = "award.claimed", _("Badge claimed by the learner")
    AWARD_REVOKED = "award.revoked", _("Badge revoked")
    AWARD_SUSPENDED = "award.suspended", _("Badge suspended")
    AWARD_REINSTATED = "award.reinstated", _("Badge reinstated")
    AWARD_EXPIRED = "award.expired", _("Badge expired")
    BATCH_FINISHED = "batch.finished", _("Bulk award finished")
    PATHWAY_COMPLETED = "pathway.completed", _("Pathway completed")
    # Sent to one endpoint on request ("Send test event"); never fanned out.
    WEBHOOK_TEST = "webhook.test", _("Test event")


#: The types an endpoint can subscribe to (every type but the test event).
SUBSCRIBABLE: tuple[str, ...] = tuple(t for t in EventType.values if t != EventType.WEBHOOK_TEST)


class Event(models.Model):
    """One thing that happened, with what a receiver needs to act on it (``data``).

    ``dispatched_at`` is set once ``webhooks`` has turned the event into deliveries; the
    partial index keeps finding the few undispatched rows cheap however long the table grows.
    ``subject`` names what the event is about (an award, a batch, a completion); an award
    expires once, which a unique constraint holds even if two expiry scans overlap.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    issuer = models.ForeignKey(
        Issuer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices)
    subject = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            # Fan-out reads the undispatched events, oldest first.
            models.Index(
                fields=["created_at"],
                name="event_undispatched",
                condition=Q(dispatched_at__isnull=True),
            ),
            # Pruning old events.
            models.Index(fields=["created_at"], name="event_created"),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["type", "subject"],
                condition=Q(type="award.expired"),
                name="event_expires_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject or self.pk}"

    @property
    def webhook_id(self) -> str:
        """The Standard Webhooks message id: stable across retries and redeliveries."""
        return f"msg_{self.id.hex}"


class Watermark(models.Model):
    """How far a periodic emitter has looked: ``award.expired`` is emitted for awards whose
    ``valid_until`` lies after ``at`` and not after the scan's time."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M}"
