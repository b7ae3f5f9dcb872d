"""OpenID Connect relying party: discovery, the authorisation code flow with PKCE, and the
checks an ID token must pass before ``signon.services`` signs anyone in.

- Discovery (OpenID Connect Discovery 1.0) goes through the safe fetcher, like every request
  the server makes: https only (test hosts allow-listed in ``INSIGNIA_FETCH_ALLOWLIST``
  excepted), size-capped, and the document's ``issuer`` must be the configured URL exactly
  (§4.3), so one provider cannot pass itself off as another.
- The authorisation request carries ``state`` (the ``PendingSignIn`` key), ``nonce`` and a
  PKCE S256 challenge (RFC 7636); ``prompt`` is left to the provider.
- The code is exchanged at the token endpoint with ``client_secret_basic``
  (``client_secret_post`` when that is all the provider offers).
- The ID token is checked as OpenID Connect Core §3.1.3.7 says: its signature with joserfc,
  against the provider's published keys, with an algorithm the provider advertises *and* we
  allow (never ``none``, never HS* with the client secret); its claims with Authlib's
  ``CodeIDToken`` (``iss``, ``aud``/``azp``, ``exp``/``iat`` with a small leeway, ``nonce``,
  ``at_hash``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from signon.models import IdentityProvider
from verification import fetcher

logger = logging.getLogger(__name__)

#: ID token algorithms we accept, whatever a provider advertises: asymmetric signatures only.
#: ``none`` would mean no signature; HS* would make the client secret a signing key.
ALLOWED_ALGORITHMS: tuple[str, ...] = (
    *("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    *("ES256", "ES384", "ES512", "EdDSA", "Ed25519"),
)
#: A discovery document is re-read after this long (keys and endpoints move).
DISCOVERY_LIFETIME = timedelta(hours=24)
#: How long a provider's published keys are kept before they are fetched again.
JWKS_CACHE_SECONDS = 60 * 60
#: Clock difference tolerated between us and the provider (``exp``, ``iat``).
LEEWAY_SECONDS = 60
DOCUMENT_MAX_BYTES = 256 * 1024
_JSON = "application/json"


class DiscoveryError(Exception):
    """A provider's discovery document cannot be used; ``message`` is for the owner."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or message


class Refusal(Exception):
    """A sign-in stopped by this protocol layer: ``message`` for the person, ``status`` for
    the error page, ``reason`` for the log."""

    def __init__(self, message: str, *, status: int, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        self.status = status
        self.reason = reason


# --------------------------------------------------------------------------------------------
# Discovery and keys
# --------------------------------------------------------------------------------------------


def is_secure_url(url: str) -> bool:
    """An https URL, or a test host the fetcher is told to reach (plain http on loopback)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    allow = {str(k).lower() for k in settings.INSIGNIA_FETCH_ALLOWLIST}
    return parts.scheme == "https" or (
        parts.scheme == "http" and (f"{host}:{port}" in allow or host in allow)
    )


def _require_secure(url: str) -> None:
    if not is_secure_url(url):
        raise fetcher.BlockedURL(f"{url} is not https")


def _get_json(url: str) -> dict[str, Any]:
    """GET a JSON object through the fetcher, https at every redirect hop."""
    response = fetcher.fetch(
        url, accept=_JSON, max_bytes=DOCUMENT_MAX_BYTES, on_hop=_require_secure
    )
    if response.status != 200:
        raise fetcher.FetchError(f"{url} answered HTTP {response.status}")
    try:
        document = json.loads(response.body)
    except ValueError:
        raise fetcher.FetchError(f"{url} did not answer JSON") from None
    if not isinstance(document, dict):
        raise fetcher.FetchError(f"{url} did not answer a JSON object")
    return document


def discover(issuer_url: str) -> dict[str, Any]:
    """The provider's discovery document (OpenID Connect Discovery 1.0 §4), checked: its
    ``issuer`` is ``issuer_url`` exactly, it has the endpoints the code flow needs, supports
    ``response_type=code`` and signs ID tokens with an algorithm we accept. Raises
    :class:`DiscoveryError`."""
    if not is_secure_url(issuer_url) or urlsplit(issuer_url).query or "#" in issuer_url:
        raise DiscoveryError(
            _("The issuer URL must start with https:// and have no query or fragment."),
            f"issuer {issuer_url!r} refused",
        )
    url = issuer_url.rstrip("/") + "/.well-known/openid-configuration"
    try:
        document = _get_json(url)
    except fetcher.FetchError as error:
        logger.warning("OpenID discovery at %s failed: %s", url, error)
        raise DiscoveryError(
            _("Could not read the provider's configuration at %(url)s.") % {"url": url},
            str(error),
        ) from None
    problem = _problem(document, issuer_url)
    if problem:
        logger.warning("OpenID discovery at %s refused: %s", url, problem)
        raise DiscoveryError(problem)
    return document


def _problem(document: Mapping[str, Any], issuer_url: str) -> str:
    """What makes a discovery document unusable, for the owner; empty when nothing does."""
    if document.get("issuer") != issuer_url:
        return _("The provider says its issuer is %(found)s, not %(url)s.") % {
            "found": str(document.get("issuer"))[:200],
            "url": issuer_url,
        }
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
        value = document.get(name)
        optional = name == "userinfo_endpoint" and value is None
        if not optional and not (isinstance(value, str) and is_secure_url(value)):
            return _("The provider's configuration has no usable %(name)s.") % {"name": name}
    if "code" not in (document.get("response_types_supported") or []):
        return _("The provider does not offer the authorisation code flow.")
    if not _algorithms(document):
        return _(
            "The provider signs ID tokens with no algorithm Insignia accepts "
            "(RS256, ES256, EdDSA…)."
        )
    return ""


def refresh_if_stale(provider: IdentityProvider) -> dict[str, Any]:
    """The provider's discovery document, read again when older than a day. A provider that
    cannot be reached keeps its last good document; one never read raises
    :class:`DiscoveryError`."""
    fresh_enough = provider.oidc_discovered_at and (
        timezone.now() - provider.oidc_discovered_at < DISCOVERY_LIFETIME
    )
    if provider.oidc_discovery and fresh_enough:
        return dict(provider.oidc_discovery)
    try:
        document = discover(provider.oidc_issuer)
    except DiscoveryError as error:
        if provider.oidc_discovery:
            logger.warning("Keeping %s's last discovery: %s", provider, error.reason)
            return dict(provider.oidc_discovery)
        raise
    provider.oidc_discovery = document
    provider.oidc_discovered_at = timezone.now()
    IdentityProvider.objects.filter(pk=provider.pk).update(
        oidc_discovery=document, oidc_discovered_at=provider.oidc_discovered_at
    )
    return document


def _algorithms(discovery: Mapping[str, Any]) -> list[str]:
    advertised = discovery.get("id_token_signing_alg_values_supported") or []
    return [alg for alg in ALLOWED_ALGORITHMS if alg in advertised]


def jwks_cache_key(jwks_uri: str) -> str:
    return "signon:oidc:jwks:" + hashlib.sha256(jwks_uri.encode()).hexdigest()


def signing_keys(jwks_uri: str, *, fresh: bool = False) -> KeySet:
    """The provider's published signing keys, cached for :data:`JWKS_CACHE_SECONDS`;
    ``fresh`` fetches them again (a key ID we do not know: the provider rotated)."""
    cache_key = jwks_cache_key(jwks_uri)
    document = None if fresh else cache.get(cache_key)
    if document is None:
        document = _get_json(jwks_uri)
        cache.set(cache_key, document, JWKS_CACHE_SECONDS)
    keys = [
        key
        for key in document.get("keys") or []
        # Only public signature keys: a symmetric ("oct") key would let an HS* token through.
        if isinstance(key, dict)
        and key.get("kty") in ("RSA", "EC", "OKP")
        and key.get("use", "sig") == "sig"
    ]
    return KeySet.import_key_set({"keys": keys})


# --------------------------------------------------------------------------------------------
# The code flow
# --------------------------------------------------------------------------------------------


def new_request_secrets() -> tuple[str, str, str]:
    """A fresh ``state``, ``nonce`` and PKCE code verifier (RFC 7636 §4.1: 43 to 128 characters)."""
    return secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)


def authorization_url(
    provider: IdentityProvider, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
) -> str:
    """Where the browser goes to sign in: the provider's authorisation endpoint with a code
    request (OpenID Connect Core §3.1.2.1), keeping any query the endpoint already has."""
    scopes = provider.oidc_scopes.split() or ["openid"]
    if "openid" not in scopes:
        scopes.insert(0, "openid")
    parts = urlsplit(str(provider.oidc_discovery["authorization_endpoint"]))
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [
        ("response_type", "code"),
        ("client_id", provider.oidc_client_id),
        ("redirect_uri", redirect_uri),
        ("scope", " ".join(scopes)),
        ("state", state),
        ("nonce", nonce),
        ("code_challenge", create_s256_code_challenge(code_verifier)),
        ("code_challenge_method", "S256"),
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _provider_answer_failed(reason: str) -> Refusal:
    return Refusal(
        _("Your institution's sign-in service did not answer as expected. Please try again later."),
        status=502,
        reason=reason,
    )


def not_accepted(reason: str) -> Refusal:
    return Refusal(
        _("Your institution's sign-in could not be checked, so you were not signed in."),
        status=403,
        reason=reason,
    )


def _post(url: str, fields: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, Any]:
    try:
        response = fetcher.post_form(url, fields, {"Accept": _JSON, **headers})
    except fetcher.FetchError as error:
        raise _provider_answer_failed(f"{url}: {error}") from None
    try:
        answer = json.loads(response.body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise _provider_answer_failed(f"{url}: HTTP {response.status}, {response.content_type}")
    if response.status != 200:
        raise Refusal(
            _(
                "Your institution's sign-in service did not accept this sign-in. "
                "Please start again."
            ),
            status=400,
            reason=f"{url}: HTTP {response.status} {str(answer.get('error'))[:100]}: "
            f"{str(answer.get('error_description'))[:300]}",
        )
    return answer


def exchange_code(
    provider: IdentityProvider, *, code: str, redirect_uri: str, code_verifier: str
) -> dict[str, Any]:
    """The token response for ``code`` (OpenID Connect Core §3.1.3.1), the client
    authenticated with ``client_secret_basic``, else ``client_secret_post``."""
    discovery = provider.oidc_discovery
    client_id = provider.oidc_client_id
    methods = discovery.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    headers = {}
    if "client_secret_basic" in methods:
        # RFC 6749 §2.3.1: both parts form-encoded before they are joined and base64-encoded.
        pair = ":".join(quote(part, safe="") for part in (client_id, provider.oidc_client_secret))
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    elif "client_secret_post" in methods:
        fields |= {
            "client_id": provider.oidc_client_id,
            "client_secret": provider.oidc_client_secret,
        }
    else:
        raise _provider_answer_failed(f"no client authentication we support in {methods!r}")
    tokens = _post(str(discovery["token_endpoint"]), fields, headers)
    if not isinstance(tokens.get("id_token"), str):
        raise _provider_answer_failed("the token response has no id_token")
    if not isinstance(tokens.get("access_token"), str) or (
        str(tokens.get("token_type", "")).lower() != "bearer"
    ):
        raise _provider_answer_failed("the token response has no bearer access_token")
    return tokens


def validate_id_token(
    provider: IdentityProvider, id_token: str, *, nonce: str, access_token: str
) -> dict[str, Any]:
    """The claims of ``id_token`` once it passed every check of OpenID Connect Core
    §3.1.3.7; raises :class:`Refusal` otherwise."""
    discovery = provider.oidc_discovery
    algorithms = _algorithms(discovery)
    try:
        header = extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError, TypeError) as error:
        raise not_accepted(f"unreadable ID token: {error!r}") from None
    if header.get("alg") not in algorithms:
        raise not_accepted(f"ID token alg {header.get('alg')!r} not in {algorithms!r}")
    if not nonce:
        raise not_accepted("no nonce was sent with this sign-in")
    jwks_uri = str(discovery["jwks_uri"])
    try:
        try:
            token = jwt.decode(id_token, signing_keys(jwks_uri), algorithms=algorithms)
        except InvalidKeyIdError:
            # A key ID we have not seen: the provider may have rotated its keys. Once.
            token = jwt.decode(id_token, signing_keys(jwks_uri, fresh=True), algorithms=algorithms)
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": provider.oidc_issuer},
                "aud": {"essential": True, "value": provider.oidc_client_id},
                "sub": {"essential": True},
            },
            params={
                "nonce": nonce,
                "client_id": provider.oidc_client_id,
                "access_token": access_token,
            },
        )
        claims.validate(leeway=LEEWAY_SECONDS)
    except fetcher.FetchError as error:
        raise _provider_answer_failed(f"JWKS: {error}") from None
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise not_accepted(f"ID token refused: {type(error).__name__}: {error}") from None
    return dict(claims)


def fetch_userinfo(provider: IdentityProvider, access_token: str, subject: str) -> dict[str, Any]:
    """The provider's UserInfo claims (OpenID Connect Core §5.3), or none when it has no
    UserInfo endpoint. POST with the bearer token: the endpoint must support it (§5.3.1) and
    the fetcher never follows a POST's redirects."""
    endpoint = provider.oidc_discovery.get("userinfo_endpoint")
    if not endpoint:
        return {}
    info = _post(str(endpoint), {}, {"Authorization": f"Bearer {access_token}"})
    if info.get("sub") != subject:
        # §5.3.2: the UserInfo sub must be the ID token's, or the answer is not used.
        raise not_accepted(f"UserInfo sub {info.get('sub')!r} is not the ID token's")
    return info
