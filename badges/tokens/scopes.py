"""The actions an API token may carry, with what each lets it do, as an owner reads them.

Issuer tokens and OAuth clients share one scope model: ``integrations.oauth.scopes`` (higher
up) takes ``INSTITUTION_SCOPES`` from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TOKEN_SCOPES: Final[dict[str, Any]] = {
    "awards:read": gettext_lazy("Read awards, their state, bulk uploads and claims"),
    "awards:write": gettext_lazy("Award micro-credentials and upload bulk batches"),
    "awards:revoke": gettext_lazy("Revoke, suspend and reinstate awards"),
    "achievements:read": gettext_lazy("Read micro-credentials, their versions and pathways"),
    "achievements:write": gettext_lazy("Create and edit micro-credentials"),
    "webhooks:manage": gettext_lazy("Manage webhook endpoints"),
}
# What a token was made for before owners chose: to award (the model's default too).
DEFAULT_SCOPES: Final = ("awards:read", "awards:write")


def checked_scopes(scopes: Iterable[str]) -> str:
    """``scopes`` as stored (space-separated, sorted, each once); a ``ValidationError`` for
    none or for a name not in ``TOKEN_SCOPES``."""
    chosen = set(scopes)
    unknown = sorted(chosen - set(TOKEN_SCOPES))
    if unknown:
        raise ValidationError(
            {"scopes": _("Unknown scopes: %(scopes)s") % {"scopes": ", ".join(unknown)}}
        )
    if not chosen:
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    return " ".join(sorted(chosen))


def described(scopes: str) -> list[tuple[str, Any]]:
    """Each stored scope with its description, in the vocabulary's order."""
    held = set(scopes.split())
    return [(name, text) for name, text in TOKEN_SCOPES.items() if name in held]
