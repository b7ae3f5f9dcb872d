"""The records behind API callers: which institution (and which of its issuers) an OAuth
client acts for, staff tokens, and the stored answers of idempotent API requests. Only a
SHA-256 of any token is stored; DOT stores its access and refresh tokens the same way
(``COMPLIANT_BCP_RFC9700_TOKEN_STORAGE``)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import Application

from issuers.models import Institution, Issuer


class ApiClient(models.Model):
    """What an OAuth client may reach.

    An institution's client (a student information system, an LMS) belongs to one institution
    and, when ``issuers`` is not empty, to those of its issuers only; its ``scopes`` are the
    most any token it gets can carry. A wallet registered through the Open Badges API has no
    institution: it acts for the learner who approves it, with the Open Badges scopes only.
    """

    class Kind(models.TextChoices):
        INSTITUTION = "institution", _("Institution system")
        WALLET = "wallet", _("Wallet or backpack")

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="insignia", primary_key=True
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.INSTITUTION)
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, null=True, blank=True, related_name="api_clients"
    )
    issuers = models.ManyToManyField(Issuer, blank=True, related_name="+")
    scopes = models.CharField(_("scopes"), max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Dynamic client registration (RFC 7591) metadata the wallet sent, kept as given.
    metadata = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return str(self.application.name)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class StaffToken(models.Model):
    """A personal API token of a staff member (``Authorization: Token …``): it acts as that
    person, with their roles. Only its SHA-256 is stored. Replaces DRF's ``authtoken``, which
    kept the raw key; the keys it held were carried over hashed (migration 0002)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} token {self.name}"


class IdempotencyRecord(models.Model):
    """A POST to the REST API v1 made with an ``Idempotency-Key``: claimed before the request
    runs (so a concurrent twin cannot run it too), then holding the answer it got, which the
    same key returns again for a day. Keys are per caller (``caller``: the institution and the
    client, token or person); ``fingerprint`` is the SHA-256 of the method, path and body, so
    the same key with another body is refused."""

    caller = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    # Who holds the claim while the request runs; a finished record keeps it.
    claim = models.UUIDField(default=uuid.uuid4)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotencyrecord_key")
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["created_at"], name="idempotencyrecord_created")
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"
