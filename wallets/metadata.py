"""OID4VCI documents: the credential issuer metadata, the authorisation server metadata and
a credential offer (OpenID4VCI 1.0 §12.2, RFC 8414, OpenID4VCI 1.0 §4.1).

The credential issuer is the platform itself (``settings.INSIGNIA_BASE_URL``). Its
authorisation server for the pre-authorized code flow is ``<base>/oid4vci``, whose metadata
sits at ``/.well-known/oauth-authorization-server/oid4vci`` as RFC 8414 §3.1 places it for an
issuer with a path: the root ``/.well-known/oauth-authorization-server`` belongs to the REST
API's OAuth server (``integrations``), which knows nothing of pre-authorized codes.
"""

from __future__ import annotations

from typing import Any, Final

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from openbadges import ob3
from wallets.models import CredentialFormat

PRE_AUTHORIZED_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CONFIGURATIONS: Final = {
    "OpenBadgeCredential_ldp_vc": CredentialFormat.LDP_VC,
    "OpenBadgeCredential_jwt_vc_json": CredentialFormat.JWT_VC_JSON,
}
_TYPES: Final = ["VerifiableCredential", "OpenBadgeCredential"]
_DISPLAY_LOCALES: Final = (("en", "en-US"), ("zh-hans", "zh-CN"))


def credential_issuer() -> str:
    """The credential issuer identifier: the platform's base URL."""
    return str(settings.INSIGNIA_BASE_URL).rstrip("/")


def authorization_server() -> str:
    """The issuer identifier of the pre-authorized code authorisation server."""
    return credential_issuer() + "/oid4vci"


def absolute(name: str, *args: Any) -> str:
    return credential_issuer() + reverse(name, args=args)


def _issuer_display() -> list[dict[str, Any]]:
    shown = []
    for language, locale in _DISPLAY_LOCALES:
        with translation.override(language):
            shown.append({"name": _("Insignia badges"), "locale": locale})
    return shown


def _credential_display() -> list[dict[str, Any]]:
    shown = []
    for language, locale in _DISPLAY_LOCALES:
        with translation.override(language):
            shown.append(
                {
                    "name": _("Open Badge"),
                    "locale": locale,
                    "description": _("An Open Badges 3.0 credential from its issuer."),
                    "background_color": "#1f3a5f",
                    "text_color": "#ffffff",
                }
            )
    return shown


def _configuration(fmt: str) -> dict[str, Any]:
    if fmt == CredentialFormat.LDP_VC:
        definition: dict[str, Any] = {"@context": list(ob3.CREDENTIAL_CONTEXT), "type": _TYPES}
        signing = ["eddsa-rdfc-2022"]
    else:
        definition = {"type": _TYPES}
        signing = ["EdDSA"]
    return {
        "format": fmt,
        "credential_definition": definition,
        "cryptographic_binding_methods_supported": ["did:key", "jwk"],
        "credential_signing_alg_values_supported": signing,
        "proof_types_supported": {
            "jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES256"]}
        },
        "credential_metadata": {"display": _credential_display()},
    }


def issuer_metadata() -> dict[str, Any]:
    """The credential issuer metadata (OpenID4VCI 1.0 §12.2.4)."""
    return {
        "credential_issuer": credential_issuer(),
        "authorization_servers": [authorization_server()],
        "credential_endpoint": absolute("wallets:credential"),
        "nonce_endpoint": absolute("wallets:nonce"),
        "display": _issuer_display(),
        "credential_configurations_supported": {
            name: _configuration(fmt) for name, fmt in CONFIGURATIONS.items()
        },
    }


def authorization_server_metadata() -> dict[str, Any]:
    """The authorisation server metadata (RFC 8414 §2; OpenID4VCI 1.0 §12.3)."""
    return {
        "issuer": authorization_server(),
        "token_endpoint": absolute("wallets:token"),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }


def credential_offer(code: str, *, tx_code_length: int) -> dict[str, Any]:
    """The credential offer for a pre-authorized ``code`` (OpenID4VCI 1.0 §4.1.1)."""
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if tx_code_length:
        grant["tx_code"] = {
            "input_mode": "numeric",
            "length": tx_code_length,
            "description": _("The code we e-mailed to you with this offer."),
        }
    return {
        "credential_issuer": credential_issuer(),
        "credential_configuration_ids": list(CONFIGURATIONS),
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }


def offer_uri(code: str) -> str:
    """Where a wallet fetches the offer (``credential_offer_uri``)."""
    return absolute("wallets:credential_offer", code)
