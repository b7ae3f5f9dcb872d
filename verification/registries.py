"""Trusted-issuer registries: which of the registries an operator configured list an issuer.

A registry says who an issuer is (its name, place and web site) for someone who vouches for
it; the issuer-identity check of a verification (:func:`verification.checks.issuer_identity`)
says "listed in: …", or warns "not listed" — never a failure: an unlisted issuer's signature
is as genuine as a listed one's.

``settings.INSIGNIA_ISSUER_REGISTRIES`` names the registries, most authoritative first (the
order DCC's ``issuer-registry-client`` reads them in):

- ``"url": "own"``: this platform's own registry (``issuers.registry``), read from the
  database in one query, never over HTTP;
- ``"type": "oidf"``: an OpenID Federation registry (DCC's member registries since 2025):
  the trust anchor's self-signed entity configuration names its fetch endpoint and keys; the
  statement about the issuer's DID must be signed by one of those keys and not expired;
- an http(s) URL: a registry in DCC's known-issuer format (``"dcc-legacy"``,
  ``{"meta": {…}, "registry": {"did:…": {"name", "location", "url"}}}``, unsigned). Both are
  downloaded by the
  safe fetcher (:mod:`verification.fetcher`, which refuses internal addresses), at most
  ``INSIGNIA_REGISTRY_MAX_BYTES``, within ``INSIGNIA_REGISTRY_FETCH_DEADLINE`` seconds and
  never more than the verification has left. Registry downloads are the operator's choice,
  not the credential's, so they are not counted against the verification's fetches.

A downloaded registry is kept in Django's cache (Redis in production) for
``INSIGNIA_REGISTRY_CACHE_SECONDS``; past that it is downloaded again, and when that fails the
last good copy is used for up to ``INSIGNIA_REGISTRY_STALE_SECONDS`` (the report says it is an
older copy). A failure is remembered for :data:`FAILURE_SECONDS`, so a registry that is down is
not asked again by every verification. A registry that cannot be read is named in the report
with the reason (could not be reached, too large, not in the registry format, an address the
verifier may not fetch, a signature that does not check out, an expired statement); the
verdict never changes because of it.

About 450 lines: the two registry formats DCC's client reads, with the cache they share, stay
in one place.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote, urlencode, urlsplit

import jwt
from django.conf import settings
from django.core.cache import cache

from issuers import registry as own_registry
from issuers.keys import issuer_did
from issuers.models import Issuer
from verification import budget, fetcher

log = logging.getLogger(__name__)

OWN: Final = "own"
#: How long a registry that could not be read is not asked again.
FAILURE_SECONDS: Final = 60

# Why a registry could not be consulted (``Problem.code``); the words are in
# ``templates/verification/_registries.html`` and :func:`verification.checks.issuer_identity`.
UNREACHABLE: Final = "unreachable"
TOO_LARGE: Final = "too_large"
MALFORMED: Final = "malformed"
BLOCKED: Final = "blocked"
UNSUPPORTED: Final = "unsupported"
BAD_SIGNATURE: Final = "bad_signature"
EXPIRED: Final = "expired"

LEGACY: Final = "dcc-legacy"
OIDF: Final = "oidf"
#: Signature algorithms an OpenID Federation entity statement may use here.
JWT_ALGORITHMS: Final = ("ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA")
ENTITY_STATEMENT: Final = "application/entity-statement+jwt, application/jwt;q=0.9, */*;q=0.1"


@dataclass(frozen=True)
class Registry:
    """One configured registry: its name as readers see it and where it is (or :data:`OWN`)."""

    name: str
    url: str
    kind: str = LEGACY

    @property
    def own(self) -> bool:
        return self.url == OWN


@dataclass(frozen=True)
class Listing:
    """An issuer as one registry lists it."""

    registry: str
    name: str
    location: str = ""
    url: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "registry": self.registry,
            "name": self.name,
            "location": self.location,
            "url": self.url,
        }


@dataclass(frozen=True)
class Problem:
    """A registry that could not be consulted (or only from an older copy: ``stale``)."""

    registry: str
    code: str
    detail: str = ""

    def as_json(self) -> dict[str, str]:
        return {"registry": self.registry, "code": self.code}


@dataclass
class Lookup:
    """What the configured registries say about one issuer."""

    issuer: str
    consulted: list[str] = field(default_factory=list)
    listed: list[Listing] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def listed_in(self) -> list[str]:
        return [listing.registry for listing in self.listed]

    def as_json(self) -> dict[str, Any]:
        """The ``issuer_registries`` of a report's JSON (API, receipts, imports, recognition
        evidence): language-free, the templates put it in words."""
        return {
            "issuer": self.issuer,
            "status": "listed" if self.listed else "not_listed",
            "listed_in": [listing.as_json() for listing in self.listed],
            "consulted": list(self.consulted),
            "could_not_check": [problem.as_json() for problem in self.problems],
            "older_copy": list(self.stale),
        }


class Unavailable(Exception):
    """A registry could not be read; ``code`` says why."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


def configured() -> list[Registry]:
    """The registries of ``settings.INSIGNIA_ISSUER_REGISTRIES``, in order, once each. An
    entry of ``"type": "oidf"`` (DCC's newer registries) names its trust anchor's entity
    configuration by ``trustAnchorEC`` (as DCC's ``known-did-registries.json`` does) or ``url``."""
    found: list[Registry] = []
    seen: set[str] = set()
    for item in settings.INSIGNIA_ISSUER_REGISTRIES:
        kind = OIDF if item.get("type") == OIDF else LEGACY
        url = (
            item.get("trustAnchorEC")
            if kind == OIDF and "trustAnchorEC" in item
            else item.get("url")
        )
        name, url = str(item.get("name", "")).strip(), str(url or "").strip()
        if name and url and url not in seen:
            seen.add(url)
            found.append(Registry(name, url, kind))
    return found


def identifiers(issuer_id: str) -> list[str]:
    """The ids a registry may list an issuer under: the id itself, a DID without its
    fragment, and the other form of a did:web (``did:web:host:path`` ⇄ ``https://host/path``)."""
    found = [issuer_id]
    if issuer_id.startswith("did:"):
        did = issuer_id.split("#", 1)[0]
        found.append(did)
        if did.startswith("did:web:"):
            host, *path = did.removeprefix("did:web:").split(":")
            found.append("https://" + "/".join([unquote(host), *(unquote(p) for p in path)]))
    elif issuer_id.startswith("https://"):
        parts = urlsplit(issuer_id)
        segments = [s for s in parts.path.split("/") if s]
        if parts.hostname and not parts.query and not parts.fragment:
            host = parts.hostname + (f"%3A{parts.port}" if parts.port else "")
            found.append(":".join(["did:web", host, *segments]))
    return list(dict.fromkeys(i for i in found if i))


def _cache_key(kind: str, url: str) -> str:
    return f"insignia:registry:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"


def _parse(body: bytes) -> dict[str, dict[str, str]]:
    """The ``registry`` object of a DCC registry document: every entry whose value is an
    object with a name (other entries are skipped, as DCC's client would find nothing useful
    in them). Raises :class:`Unavailable` (``malformed``) for anything else."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise Unavailable(MALFORMED, f"not JSON: {error}") from None
    listed = document.get("registry") if isinstance(document, dict) else None
    if not isinstance(listed, dict):
        raise Unavailable(MALFORMED, 'no "registry" object')
    entries: dict[str, dict[str, str]] = {}
    for did, value in listed.items():
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            continue
        entries[str(did)] = {
            key: str(value[key])[:300]
            for key in ("name", "location", "url")
            if isinstance(value.get(key), str)
        }
    return entries


def _get(url: str, accept: str = "application/json") -> fetcher.Response:
    """GET ``url`` through the safe fetcher, outside the verification's count of fetches and
    never past its deadline; any HTTP status is returned."""
    seconds = float(settings.INSIGNIA_REGISTRY_FETCH_DEADLINE)
    running = budget.current()
    if running is not None:
        seconds = min(seconds, running.remaining())
        if seconds <= 0:
            raise Unavailable(UNREACHABLE, "no time left in this verification")
    try:
        # A fresh context: the verification's budget (a context variable) does not see it.
        return contextvars.Context().run(
            fetcher.fetch,
            url,
            accept=accept,
            max_bytes=int(settings.INSIGNIA_REGISTRY_MAX_BYTES),
            deadline=seconds,
        )
    except fetcher.BlockedURL as error:
        raise Unavailable(BLOCKED, str(error)) from None
    except fetcher.TooLarge as error:
        raise Unavailable(TOO_LARGE, str(error)) from None
    except fetcher.FetchError as error:
        raise Unavailable(UNREACHABLE, str(error)) from None


def _download(url: str) -> dict[str, dict[str, str]]:
    """A DCC legacy registry, downloaded and parsed."""
    response = _get(url)
    if response.status != 200:
        raise Unavailable(UNREACHABLE, f"HTTP {response.status}")
    return _parse(response.body)


def _cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:  # an unreachable cache only costs a download
        return None


def _cache_set(key: str, value: Any, seconds: int) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:  # as above
        log.warning("registry cache unavailable", exc_info=True)


@dataclass(frozen=True)
class Loaded:
    """What a registry answered (``value``), when, and whether it is an older copy."""

    value: Any
    fetched_at: float
    stale: bool = False


def _kept(url: str, download: Callable[[], Any], *, refresh: bool = False) -> Loaded:
    """``download()``'s answer for ``url``: from the cache while fresh, else downloaded; an
    older copy (within ``INSIGNIA_REGISTRY_STALE_SECONDS``) when the download fails."""
    now = time.time()
    kept = _cache_get(_cache_key("copy", url))
    kept = kept if isinstance(kept, dict) and "value" in kept else None
    fresh_for = float(settings.INSIGNIA_REGISTRY_CACHE_SECONDS)
    stale_for = float(settings.INSIGNIA_REGISTRY_STALE_SECONDS)
    if kept is not None and not refresh and now - kept["fetched_at"] < fresh_for:
        return Loaded(kept["value"], kept["fetched_at"])
    failed = None if refresh else _cache_get(_cache_key("failure", url))
    try:
        if isinstance(failed, tuple):
            raise Unavailable(*failed)
        value = download()
    except Unavailable as problem:
        if not isinstance(failed, tuple):
            log.warning("issuer registry %s could not be read: %s", url, problem)
            _cache_set(_cache_key("failure", url), (problem.code, problem.detail), FAILURE_SECONDS)
        if kept is not None and now - kept["fetched_at"] < fresh_for + stale_for:
            return Loaded(kept["value"], kept["fetched_at"], stale=True)
        raise
    _cache_set(
        _cache_key("copy", url), {"value": value, "fetched_at": now}, int(fresh_for + stale_for) + 1
    )
    return Loaded(value, now)


def load(url: str, *, refresh: bool = False) -> Loaded:
    """The entries (``value``: DID → entry) of the DCC legacy registry at ``url``. ``refresh``
    downloads even when a fresh copy is kept (``manage.py issuer_registries``)."""
    return _kept(url, lambda: _download(url), refresh=refresh)


# --------------------------------------------------------------------------------------------
# OpenID Federation registries (DCC's member registries since 2025): signed entity statements
# --------------------------------------------------------------------------------------------


def _verified(token: str, keys: Any, now: float) -> dict[str, Any]:
    """The claims of the entity statement ``token`` once its signature checks out with one
    of ``keys`` (a JWK set's ``keys``) and it has not expired (OpenID Federation 1.0 §3)."""
    try:
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in JWT_ALGORITHMS:
            raise Unavailable(BAD_SIGNATURE, f"algorithm {algorithm!r}")
        usable = [k for k in (keys if isinstance(keys, list) else []) if isinstance(k, dict)]
        jwk = next((k for k in usable if k.get("kid") == header.get("kid")), None)
        if jwk is None:
            raise Unavailable(BAD_SIGNATURE, "signed with a key the trust anchor does not list")
        claims: dict[str, Any] = jwt.decode(
            token,
            key=jwt.PyJWK(jwk).key,
            algorithms=[algorithm],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as error:
        raise Unavailable(BAD_SIGNATURE, str(error)) from None
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires <= now:
        raise Unavailable(EXPIRED, "the entity statement has expired")
    return claims


def _statement(url: str) -> str:
    """An entity statement (a JWT) at ``url``; ``""`` when the registry says 404 (not listed)."""
    response = _get(url, ENTITY_STATEMENT)
    if response.status == 404:
        return ""
    if response.status != 200:
        raise Unavailable(UNREACHABLE, f"HTTP {response.status}")
    return response.body.decode("ascii", "replace").strip()


def trust_anchor(registry: Registry, now: float) -> tuple[dict[str, Any], Any, bool]:
    """An OpenID Federation registry's trust anchor: its self-signed entity configuration
    (verified with the keys it carries), those keys, and whether an older copy was used."""
    anchor = _kept(registry.url, lambda: _statement(registry.url))
    if not anchor.value:
        raise Unavailable(UNREACHABLE, "no entity configuration")
    try:
        # nosemgrep: jwt-decode-without-algorithms - read for its keys, verified just below
        unverified = jwt.decode(anchor.value, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise Unavailable(MALFORMED, str(error)) from None
    keys = (unverified.get("jwks") or {}).get("keys") if isinstance(unverified, dict) else None
    configuration = _verified(anchor.value, keys, now)
    entity = (configuration.get("metadata") or {}).get("federation_entity") or {}
    endpoint = entity.get("federation_fetch_endpoint") if isinstance(entity, dict) else None
    if configuration.get("iss") != configuration.get("sub") or not isinstance(endpoint, str):
        raise Unavailable(MALFORMED, "not a trust anchor's entity configuration")
    configuration["fetch_endpoint"] = endpoint
    return configuration, keys, anchor.stale


def _subordinate(endpoint: str, did: str) -> Loaded:
    url = f"{endpoint}?{urlencode({'sub': did})}"
    return _kept(url, lambda: _statement(url))


def _oidf_listing(registry: Registry, ids: list[str], now: float) -> tuple[Listing | None, bool]:
    """Look ``ids`` up in an OpenID Federation registry: the trust anchor's fetch endpoint
    answers a subordinate statement about the DID (404: not listed), which must be signed by
    one of the anchor's keys. Returns the listing and whether an older copy was used."""
    configuration, keys, stale = trust_anchor(registry, now)
    for did in (i for i in ids if i.startswith("did:")):
        answer = _subordinate(configuration["fetch_endpoint"], did)
        stale = stale or answer.stale
        if not answer.value:
            continue
        claims = _verified(answer.value, keys, now)
        if claims.get("iss") != configuration.get("sub") or claims.get("sub") != did:
            raise Unavailable(BAD_SIGNATURE, "the statement is about another entity")
        metadata = (claims.get("metadata") or {}).get("federation_entity") or {}
        metadata = metadata if isinstance(metadata, dict) else {}
        listing = Listing(
            registry.name,
            str(metadata.get("organization_name", ""))[:300],
            str(metadata.get("location", ""))[:300],
            str(metadata.get("homepage_uri", ""))[:300],
        )
        return listing, stale
    return None, stale


def _listing(registry: Registry, found: dict[str, str]) -> Listing:
    return Listing(
        registry.name, found.get("name", ""), found.get("location", ""), found.get("url", "")
    )


def lookup(issuer_id: str, *, now: float | None = None, ours: Issuer | None = None) -> Lookup:
    """Which configured registries list ``issuer_id`` (under any of :func:`identifiers`);
    ``now`` (seconds since the epoch) is when signed statements must still be valid. ``ours``:
    the issuer of one of our awards whose signature and key just checked out (so it has a
    usable key: it is listed), loaded with its institution — our entry without a query."""
    result = Lookup(issuer=issuer_id)
    ids = identifiers(issuer_id)
    moment = time.time() if now is None else now
    for registry in configured():
        result.consulted.append(registry.name)
        if registry.own:
            if ours is not None and issuer_did(ours) in ids:
                found: dict[str, str] | None = own_registry.entry(ours)
            else:
                found = next((e for e in map(own_registry.entry_for, ids) if e is not None), None)
            if found is not None:
                result.listed.append(_listing(registry, found))
            continue
        if urlsplit(registry.url).scheme not in ("http", "https"):
            result.problems.append(Problem(registry.name, UNSUPPORTED, registry.url))
            continue
        try:
            if registry.kind == OIDF:
                listing, stale = _oidf_listing(registry, ids, moment)
            else:
                loaded = load(registry.url)
                match = next((loaded.value[i] for i in ids if i in loaded.value), None)
                listing = _listing(registry, match) if match is not None else None
                stale = loaded.stale
        except Unavailable as problem:
            result.problems.append(Problem(registry.name, problem.code, problem.detail))
            continue
        if stale:
            result.stale.append(registry.name)
        if listing is not None:
            result.listed.append(listing)
    return result
