"""Dynamic client registration (RFC 7591) as OB 3.0 §6.2 profiles it: the metadata a wallet
must send, checked before ``integrations.oauth.services.register_wallet`` creates the client.

The spec requires ``client_name``, ``client_uri``, ``logo_uri``, ``tos_uri``, ``policy_uri``,
``software_id``, ``software_version``, ``redirect_uris`` and ``scope``, all URLs on HTTPS and on
the same host as ``client_uri`` (so the consent page names the site the learner is sent back
to). Plain ``http`` is accepted only where the authorisation server allows it
(``OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"]``: development and tests) and then only for
a loopback host (RFC 8252 §7.3). Errors are RFC 7591 §3.2.2 ``invalid_redirect_uri`` or
``invalid_client_metadata``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from oauth2_provider.settings import oauth2_settings

from integrations.oauth import scopes as scope_names

REQUIRED_TEXT: Final = ("client_name", "software_id", "software_version")
REQUIRED_URLS: Final = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
MAX_TEXT: Final = 255
MAX_URL: Final = 2000
MAX_REDIRECT_URIS: Final = 10
MAX_CONTACTS: Final = 5
AUTH_METHODS: Final = frozenset({"client_secret_basic", "none"})
GRANT_TYPES: Final = frozenset({"authorization_code", "refresh_token"})
RESPONSE_TYPES: Final = frozenset({"code"})
# Asked for in the spec's examples; refresh tokens are issued anyway, so it is dropped.
IGNORED_SCOPES: Final = frozenset({"offline_access"})
LOOPBACK_NAMES: Final = frozenset({"localhost"})


class RegistrationError(Exception):
    """An RFC 7591 §3.2.2 error: ``error`` is its code, the message its description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def as_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class Registration:
    """A wallet's checked metadata."""

    client_name: str
    redirect_uris: list[str]
    scopes: list[str]
    public: bool
    metadata: dict[str, Any] = field(default_factory=dict)

    def answer(self) -> dict[str, Any]:
        """The metadata as the 201 answer echoes it (RFC 7591 §3.2.1)."""
        return {
            **self.metadata,
            "client_name": self.client_name,
            "redirect_uris": self.redirect_uris,
            "scope": " ".join(self.scopes),
        }


def _metadata_error(description: str) -> RegistrationError:
    return RegistrationError("invalid_client_metadata", description)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(value: Any, name: str, *, error: str = "invalid_client_metadata") -> str:
    """An absolute URL the server would send a learner to; ``name`` is the field."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_URL:
        raise RegistrationError(error, f"{name} must be a URL.")
    url = value.strip()
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES or not host:
        raise RegistrationError(error, f"{name} must be an https URL.")
    if parts.scheme == "http" and not _is_loopback(host):
        raise RegistrationError(error, f"{name} must be an https URL (http only for loopback).")
    if parts.username is not None or parts.password is not None:
        raise RegistrationError(error, f"{name} must not carry a user name or password.")
    if parts.fragment:
        raise RegistrationError(error, f"{name} must not have a fragment.")
    return url


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise _metadata_error(f"{name} is required (text of at most {MAX_TEXT} characters).")
    return value.strip()


def _string_list(data: dict[str, Any], name: str, default: list[str]) -> list[str]:
    value = data.get(name, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _metadata_error(f"{name} must be an array of strings.")
    return list(dict.fromkeys(value))


def _scopes(data: dict[str, Any]) -> list[str]:
    value = data.get("scope")
    if not isinstance(value, str):
        raise _metadata_error("scope is required: the Open Badges scopes, space-separated.")
    asked = [s for s in dict.fromkeys(value.split()) if s not in IGNORED_SCOPES]
    unknown = [s for s in asked if s not in scope_names.WALLET_SCOPES]
    if unknown:
        raise _metadata_error(f"Unknown scope: {' '.join(unknown)}")
    if not asked:
        raise _metadata_error("Ask for at least one Open Badges scope.")
    return asked


def parse(data: Any) -> Registration:
    """Check a registration request's JSON; raises :class:`RegistrationError`."""
    if not isinstance(data, dict):
        raise _metadata_error("The request body must be a JSON object.")
    texts = {name: _text(data, name) for name in REQUIRED_TEXT}
    urls = {name: _url(data.get(name), name) for name in REQUIRED_URLS}
    raw_redirects = data.get("redirect_uris")
    if not isinstance(raw_redirects, list) or not raw_redirects:
        raise RegistrationError("invalid_redirect_uri", "redirect_uris must list at least one URI.")
    if len(raw_redirects) > MAX_REDIRECT_URIS:
        raise RegistrationError("invalid_redirect_uri", "At most ten redirect URIs.")
    redirects = list(
        dict.fromkeys(
            _url(value, "redirect_uris", error="invalid_redirect_uri") for value in raw_redirects
        )
    )
    home = urlsplit(urls["client_uri"]).hostname
    for name, url in urls.items():
        if urlsplit(url).hostname != home:
            raise _metadata_error(f"{name} must be on the host of client_uri ({home}).")
    for url in redirects:
        if urlsplit(url).hostname != home:
            raise RegistrationError(
                "invalid_redirect_uri", f"Every redirect URI must be on the host {home}."
            )
    method = data.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise _metadata_error("token_endpoint_auth_method must be client_secret_basic (or none).")
    grants = _string_list(data, "grant_types", ["authorization_code", "refresh_token"])
    if "authorization_code" not in grants or not set(grants) <= GRANT_TYPES:
        raise _metadata_error("grant_types: authorization_code (and refresh_token) only.")
    responses = _string_list(data, "response_types", ["code"])
    if set(responses) != RESPONSE_TYPES:
        raise _metadata_error("response_types: code only.")
    contacts = _string_list(data, "contacts", [])
    if len(contacts) > MAX_CONTACTS or any(len(c) > MAX_TEXT for c in contacts):
        raise _metadata_error("contacts: at most five short strings.")
    metadata: dict[str, Any] = {
        "software_id": texts["software_id"],
        "software_version": texts["software_version"],
        **urls,
        "token_endpoint_auth_method": method,
        "grant_types": grants,
        "response_types": responses,
    }
    if contacts:
        metadata["contacts"] = contacts
    return Registration(
        client_name=texts["client_name"],
        redirect_uris=redirects,
        scopes=_scopes(data),
        public=method == "none",
        metadata=metadata,
    )
