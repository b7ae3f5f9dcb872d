"""Verification receipts and the platform's own receipt-signing key.

A receipt records what was checked and when, signed by the platform (not by any issuer), so
that a reader can later show "this is what Insignia found on that day". It never contains the
e-mail address that was typed, only whether one matched.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PlatformKey(models.Model):
    """An Ed25519 key of the platform itself, published at ``/.well-known/did.json``.

    The seed is encrypted with the same key-encryption key and AES-GCM helpers as issuer keys
    (``issuers.keys.encrypt_seed``), bound to ``platform:<key_id>``.
    """

    key_id = models.CharField(max_length=20, unique=True)
    public_key_multibase = models.CharField(max_length=64, unique=True)
    encrypted_private_key = models.BinaryField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="platformkey_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"platform#{self.key_id}"


class Receipt(models.Model):
    """A signed record of one verification (``document`` is the signed JSON, ``jws`` its
    compact EdDSA signature by a :class:`PlatformKey`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    verdict = models.CharField(max_length=20)
    credential_id = models.CharField(max_length=500, blank=True)
    document = models.JSONField()
    jws = models.TextField()
    key = models.ForeignKey(PlatformKey, on_delete=models.PROTECT, related_name="receipts")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"receipt {self.pk} ({self.verdict})"


class OwnVerificationChannel(models.TextChoices):
    """Where one of this platform's own credentials was verified."""

    PAGE_URL = "page_url", _("Verify page: link")
    PAGE_JSON = "page_json", _("Verify page: pasted JSON")
    PAGE_IMAGE = "page_image", _("Verify page: badge image")
    API = "api", _("Verify API")


class OwnVerification(models.Model):
    """One verification of one of our own awards on the verify page or the verify API: one
    INSERT each, counted for the learner's "who viewed" and the console's analytics (never
    who verified: nothing about the verifier is kept)."""

    award = models.ForeignKey("badges.Award", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    channel = models.CharField(max_length=12, choices=OwnVerificationChannel.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["award", "day"], name="ownverification_award_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.award_id}"
