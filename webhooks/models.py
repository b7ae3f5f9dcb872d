"""Webhook endpoints of an institution, and the deliveries of events to them (Standard
Webhooks, https://www.standardwebhooks.com/).

An :class:`Endpoint` receives the institution's events (``events.Event``), all of them or the
types and issuers it chose, signed with its secret. Each event becomes one :class:`Delivery`
per matching endpoint; a delivery is tried until the receiver answers 2xx, backing off for at
least 24 hours before it is ``dead``. Every try is an :class:`Attempt`.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from events.models import Event
from issuers.fields import SealedSecretField
from issuers.models import Institution, Issuer


class DisabledReason(models.TextChoices):
    MANUAL = "manual", _("Disabled by a person")
    FAILING = "failing", _("Disabled after repeated failures")


class Endpoint(models.Model):
    """A URL of the institution's that receives its events.

    ``secret`` is ``whsec_`` + base64 of 32 random bytes (Standard Webhooks "Signature
    scheme"). After a rotation the previous secret keeps signing beside the new one until
    ``previous_secret_expires_at``, so a receiver can switch over without losing a message.
    An endpoint that keeps failing is disabled by the platform (``disabled_reason`` failing)
    and its owners are e-mailed; while disabled it is sent nothing.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("endpoint URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Types of ``events.EventType`` it receives; empty: every type.
    event_types = models.JSONField(_("events"), default=list, blank=True)
    # Issuers whose events it receives; none: every issuer of the institution.
    issuers = models.ManyToManyField(
        Issuer, blank=True, related_name="+", verbose_name=_("issuers")
    )
    secret = SealedSecretField(max_length=300)
    previous_secret = SealedSecretField(max_length=300, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(max_length=10, choices=DisabledReason.choices, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Failures since the last 2xx: attempts, deliveries given up on, and since when.
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_dead = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # The language of the e-mail telling the owners it was disabled (its creator's).
    language = models.CharField(max_length=10, default="en")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Gave up")


class Delivery(models.Model):
    """One event to one endpoint, tried until it succeeds or is given up on.

    A worker takes a due delivery with ``SELECT … FOR UPDATE SKIP LOCKED`` and sets a lease
    (``locked_until``, ``lease``) before it sends; a worker killed while sending leaves the
    lease to run out, and the delivery is taken again (at-least-once, same ``webhook-id``).
    The ``last_*`` fields repeat the latest :class:`Attempt` for the console's list.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    lease = models.UUIDField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True)  # the first 2 KB of the answer
    last_error = models.CharField(max_length=500, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            # The sweep: due deliveries, soonest first.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=Q(status__in=["pending", "failed"]),
            ),
            # An endpoint's recent deliveries (the console).
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_recent"),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class Attempt(models.Model):
    """One POST of a delivery and what came of it."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="history")
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response = models.TextField(blank=True)  # the first 2 KB
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar[list[str]] = ["delivery", "number", "pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
