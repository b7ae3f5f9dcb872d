"""Model fields shared by the apps above ``issuers``."""

from __future__ import annotations

from typing import Any

from django.db import models

from issuers import keys


class SealedSecretField(models.CharField):  # type: ignore[type-arg]
    """A secret the platform must use again, stored encrypted under the key-encryption key
    (``issuers.keys.seal_text``) and read back in clear: a dump or a backup of the database
    alone reveals no signing secret. Never filter on it (each write seals afresh)."""

    # Subclasses name their own: a value sealed for one purpose opens for no other.
    purpose = "webhook-secret"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return keys.open_text(value, purpose=self.purpose) if value else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return keys.seal_text(value, purpose=self.purpose) if value else value
