"""The scopes an API token may carry, and the role each needs.

An institution's token carries actions (``awards:read`` …) and, optionally, ``issuer:<slug>``
scopes: with none, the token reaches every issuer its client may; with some, only those.
A wallet's token carries the four Open Badges 3.0 API scopes and acts for one learner.
"""

from __future__ import annotations

from typing import Any, Final

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oauth2_provider.scopes import BaseScopes

from badges.tokens.scopes import TOKEN_SCOPES
from issuers.models import Role

AWARDS_READ: Final = "awards:read"
AWARDS_WRITE: Final = "awards:write"
AWARDS_REVOKE: Final = "awards:revoke"
ACHIEVEMENTS_READ: Final = "achievements:read"
ACHIEVEMENTS_WRITE: Final = "achievements:write"
WEBHOOKS_MANAGE: Final = "webhooks:manage"
ISSUER_PREFIX: Final = "issuer:"

# The 1EdTech Open Badges 3.0 API scopes (the spec's §6; a wallet asks for these).
OB_CREDENTIAL_READONLY: Final = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"
OB_CREDENTIAL_UPSERT: Final = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert"
OB_PROFILE_READONLY: Final = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly"
OB_PROFILE_UPDATE: Final = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.update"

# The institution's actions are named where issuer tokens (``badges.tokens``) keep them too.
INSTITUTION_SCOPES: Final[dict[str, Any]] = TOKEN_SCOPES
WALLET_SCOPES: Final[dict[str, Any]] = {
    OB_CREDENTIAL_READONLY: _("Read the badges in your backpack"),
    OB_CREDENTIAL_UPSERT: _("Add badges to your backpack"),
    OB_PROFILE_READONLY: _("Read your profile"),
    OB_PROFILE_UPDATE: _("Update your profile"),
}

# The least role a person must hold for an issuer to use each action there.
ROLE_FOR: Final[dict[str, Role]] = {
    AWARDS_READ: Role.VIEWER,
    AWARDS_WRITE: Role.AWARDER,
    AWARDS_REVOKE: Role.EDITOR,
    ACHIEVEMENTS_READ: Role.VIEWER,
    ACHIEVEMENTS_WRITE: Role.EDITOR,
    WEBHOOKS_MANAGE: Role.OWNER,
}

# What an issuer token (``ins_…``) carries when its owner does not choose: it was made to award.
ISSUER_TOKEN_DEFAULT: Final = f"{AWARDS_READ} {AWARDS_WRITE}"


def actions(scopes: frozenset[str]) -> frozenset[str]:
    return frozenset(s for s in scopes if s in INSTITUTION_SCOPES)


def issuer_slugs(scopes: frozenset[str]) -> frozenset[str]:
    return frozenset(s[len(ISSUER_PREFIX) :] for s in scopes if s.startswith(ISSUER_PREFIX))


class _Described(dict[str, Any]):
    """Scope descriptions, where ``issuer:<slug>`` reads "only the issuer <slug>" (DOT's
    consent view looks each requested scope up)."""

    def __missing__(self, key: str) -> Any:
        if key.startswith(ISSUER_PREFIX):
            return gettext("Only the issuer “%(issuer)s”") % {"issuer": key[len(ISSUER_PREFIX) :]}
        raise KeyError(key)


class ScopesBackend(BaseScopes):
    """Every scope DOT may grant. Which of them a client may ask for is decided per client in
    ``integrations.oauth.validators.Validator.validate_scopes``."""

    def get_all_scopes(self) -> dict[str, Any]:
        return _Described({**INSTITUTION_SCOPES, **WALLET_SCOPES})

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return list(self.get_all_scopes())

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        client = getattr(application, "insignia", None)
        if client is None:
            return []
        return sorted(client.scope_set)
