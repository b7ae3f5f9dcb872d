"""What a learner approved: which wallet, with which Open Badges scopes, and when. The tokens
themselves are django-oauth-toolkit's; this row is what the "Connected apps" page lists and
what "Disconnect" removes (with every token, ``integrations.oauth.services.revoke_consent``)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from integrations.models import ApiClient


class WalletConsent(models.Model):
    """A learner's approval of one wallet; the scopes are every scope they ever approved for
    it (a token carries at most these)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet_consents"
    )
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="consents")
    scopes = models.CharField(max_length=1000)
    approved_at = models.DateTimeField()
    renewed_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar[list[str]] = ["-renewed_at", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["user", "client"], name="walletconsent_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.client_id}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
