"""Issuer API tokens and the stored answers of idempotent API requests."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from issuers.models import Issuer


class IssuerApiToken(models.Model):
    """An API token for one issuer only, with the scopes its owner chose. Only its SHA-256 is
    stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    # Space-separated actions of ``integrations.oauth.scopes`` (the same model as OAuth).
    scopes = models.CharField(_("scopes"), max_length=500, default="awards:read awards:write")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Written at most once a minute per token (token_services.record_token_use).
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.issuer} token {self.name}"


class IdempotentRequest(models.Model):
    """The stored answer to an API request made with an ``Idempotency-Key``: the same key
    returns it again instead of awarding twice (unique per issuer)."""

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=201)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["issuer", "key"], name="idempotentrequest_key")
        ]

    def __str__(self) -> str:
        return f"{self.issuer_id} {self.key}"
