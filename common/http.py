"""HTTP answers shared by the public pages: content negotiation (HTML for people, JSON-LD for
machines), public JSON with CORS, ``If-None-Match`` revalidation, and bodies kept in the
cache under a key that names everything they show (``cached_body``).

Cache-Control of the public pages (chosen per what a stale copy would get wrong):

- ``REVALIDATE`` (``public, no-cache``): anything carrying the live status (the OB 2.0
  hosted assertion: 410 once revoked) or answered by content negotiation on the badge
  page's own URL. A browser or CDN may keep it but must ask each time; the answer is a 304
  after one small query, so the status is exact and the bytes still come from the cache.
- ``SHARE_CARD`` (``public, max-age=60, stale-while-revalidate=600``): preview cards
  (they show the learner's name unless hidden). A CDN serves them at once, a changed choice
  shows within a minute (the first request after that refreshes the copy in the
  background); crawlers keep their own copies anyway.
- ``IMMUTABLE_TEXT`` (``public, max-age=3600``): the credential JSON, the signed text,
  which never changes (its status lives in the status list, not in it).
- the badge page HTML is ``private, no-cache``: it carries the reader's CSRF token
  (``base.html``'s language switch and htmx header), which a shared cache would hand to
  everyone (a masked token reveals its secret).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

log = logging.getLogger(__name__)

REVALIDATE = "public, no-cache"
SHARE_CARD = "public, max-age=60, stale-while-revalidate=600"
IMMUTABLE_TEXT = "public, max-age=3600"
PRIVATE_PAGE = "private, no-cache"
# Cached bodies are keyed by what they show, so they never go stale; they expire only to
# give the memory back (an award nobody looked at for a day).
BODY_SECONDS = 24 * 3600

JSON_TYPES = ("application/vc+ld+json", "application/ld+json", "application/json")
HTML_TYPES = ("text/html", "application/xhtml+xml")


def _accepted(request: HttpRequest) -> dict[str, float]:
    accepted: dict[str, float] = {}
    for part in request.headers.get("Accept", "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        accepted[media.lower()] = max(quality, accepted.get(media.lower(), 0.0))
    return accepted


def json_type(request: HttpRequest, offered: tuple[str, ...] = JSON_TYPES) -> str | None:
    """The JSON media type to answer with, or None when HTML is preferred (RFC 9110 §12.5.1).

    A JSON type wins only if the client names it with a higher quality than any HTML type,
    so browsers (which list text/html) and ``*/*`` get the page.
    """
    accepted = _accepted(request)
    html = max((accepted.get(t, 0.0) for t in HTML_TYPES), default=0.0)
    best: tuple[float, str] | None = None
    for media in offered:
        quality = accepted.get(media, 0.0)
        if quality > 0 and quality > html and (best is None or quality > best[0]):
            best = (quality, media)
    return best[1] if best else None


def json_response(body: str | bytes, media_type: str) -> HttpResponse:
    """A public JSON answer: any origin may read it (verifiers run in browsers too)."""
    response = HttpResponse(body, content_type=f"{media_type}; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Vary"] = "Accept"
    return response


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def not_modified(request: HttpRequest, etag: str, cache_control: str = "") -> HttpResponse | None:
    """A 304 when the client already holds ``etag`` (weak comparison, RFC 9110 §13.1.2);
    None when it must get the body."""
    wanted = request.headers.get("If-None-Match", "")
    if not wanted:
        return None
    if _opaque(etag) in (_opaque(tag) for tag in wanted.split(",")):
        response = HttpResponseNotModified()
        response["ETag"] = etag
        if cache_control:
            response["Cache-Control"] = cache_control
        return response
    return None


def fields_of(row: models.Model | None) -> tuple[object, ...]:
    """A row's values as loaded (deferred fields left out), for a ``fingerprint``."""
    if row is None:
        return ()
    deferred = row.get_deferred_fields()
    return tuple(
        getattr(row, f.attname) for f in row._meta.concrete_fields if f.attname not in deferred
    )


def fingerprint(*parts: object) -> str:
    """A short stable digest of ``parts`` (their ``repr``): a cache key or an ETag that
    changes whenever any of them does."""
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


def cached_body(key: str, build: Callable[[], bytes]) -> bytes:
    """The bytes cached under ``key``, else ``build()``'s, cached for next time. ``key``
    must name everything the bytes depend on. A cache that fails is skipped, never fatal."""
    try:
        found = cache.get(key)
    except Exception:  # the cache backend's own errors (redis.ConnectionError, timeouts)
        log.warning("page cache unavailable", exc_info=True)
        return build()
    if isinstance(found, bytes):
        return found
    data = build()
    try:
        cache.set(key, data, BODY_SECONDS)
    except Exception:  # as above: serving the page matters more than keeping it
        log.warning("page cache unavailable", exc_info=True)
    return data


def client_address(request: HttpRequest) -> str:
    """The client's address as the nearest party we trust saw it: the peer, or with
    ``INSIGNIA_TRUSTED_PROXIES`` the address the outermost trusted proxy saw, counted from the
    right of ``X-Forwarded-For``. "" when there is none. Every per-client limit uses it."""
    proxies = settings.INSIGNIA_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in str(forwarded).split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))
