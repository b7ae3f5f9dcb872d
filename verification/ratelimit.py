"""Per-client rate limits and load shedding for the verifier (DESIGN.md §9).

Limits are fixed windows counted in the Django cache (Redis in production, so every web
process shares them; local memory otherwise). The client is ``REMOTE_ADDR``, unless
``INSIGNIA_TRUSTED_PROXIES`` says how many reverse proxies stand in front of gunicorn: then it
is the address the outermost trusted proxy saw, counted from the right of ``X-Forwarded-For``.
Entries a client wrote itself further left are never used, so a spoofed header buys no extra
quota (S-19). Over the limit the caller answers 429 with ``Retry-After``.

Shedding: at most ``INSIGNIA_VERIFY_MAX_IN_FLIGHT`` verifications run at once per process,
and at most ``INSIGNIA_VERIFY_MAX_IN_FLIGHT_PER_CLIENT`` of one client's across all processes;
one more is refused at once with 429 rather than queued behind the others.

The per-client cap is against verifications that can hold a worker for seconds: those that
fetch (a slow or tarpitting host, S-19) or canonicalize. A verification that does neither
(:func:`verification.pipeline.runs_cheap`: pasted JSON that is exactly one of our stored
credentials, checked against the database in a few milliseconds, like a badge page) does not
take one of the client's slots: with only two, a single client sending 100 a second was
refused whenever three happened to overlap (16 % on a busy machine), though none held a
worker for long. It still counts against the client's per-minute and burst limits and still
needs one of the process's slots, so an overload is shed as before.

The verify page and the verify API both go through :func:`verify_within_limits`, so they
apply the same limits in the same order. Every other way a person starts a verification —
importing a badge into the backpack, adding evidence to a recognition case, re-checking
either — goes through :func:`verify_as` with that person's key (:func:`person_key`): the same
bucket and the same slots, so a signed-in person gets the same number of verifications a
minute whichever door they use.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _

from common.http import client_address
from common.ratelimit import hit as hit  # the verifier's limits count with it too
from verification import pipeline
from verification.report import Report


def client_key(request: HttpRequest) -> str:
    """The client's address, as the nearest party we trust saw it."""
    return client_address(request) or "unknown"


def user_key(user_id: int) -> str:
    return f"user:{user_id}"


def person_key(request: HttpRequest) -> str:
    """Whom verifications are counted against: the signed-in person (wherever they are),
    else the client's address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user_key(user.pk)
    return client_key(request)


#: The short window of the burst limit (S-19): a client cannot spend its whole minute in the
#: first second of it, which saturated the workers for everyone else in the drill.
BURST_SECONDS = 10


def burst_limit(per_minute: int) -> int:
    """Verifications allowed per :data:`BURST_SECONDS`: a quarter of the minute's, at least
    5 (or the minute's own limit when it is smaller)."""
    return max(per_minute // 4, min(per_minute, 5))


def count_verification(key: str) -> int | None:
    """Count one verification of ``key`` against the burst and the per-minute limit; the
    seconds to wait when over either, else ``None``."""
    per_minute = settings.INSIGNIA_VERIFY_RATE_LIMIT
    retry = hit("verify-burst", key, limit=burst_limit(per_minute), window=BURST_SECONDS)
    return retry if retry is not None else hit("verify", key, limit=per_minute)


def verify_limit(request: HttpRequest) -> int | None:
    """Verifications per person (or client): ``INSIGNIA_VERIFY_RATE_LIMIT`` a minute, and
    :func:`burst_limit` of them per :data:`BURST_SECONDS`."""
    return count_verification(person_key(request))


def recipient_limit(request: HttpRequest) -> int | None:
    """Recipient e-mail guesses per client per minute (``INSIGNIA_RECIPIENT_RATE_LIMIT``;
    research S-18): slows down guessing who holds a badge."""
    return hit("recipient", client_key(request), limit=settings.INSIGNIA_RECIPIENT_RATE_LIMIT)


_in_flight = 0
_lock = threading.Lock()


class Shed(Exception):
    """Too many verifications in flight in this process."""


@contextmanager
def slot() -> Iterator[None]:
    """Hold one of ``INSIGNIA_VERIFY_MAX_IN_FLIGHT`` slots, or raise :class:`Shed` at once."""
    global _in_flight
    limit = settings.INSIGNIA_VERIFY_MAX_IN_FLIGHT
    with _lock:
        if _in_flight >= limit:
            raise Shed
        _in_flight += 1
    try:
        yield
    finally:
        with _lock:
            _in_flight -= 1


@contextmanager
def client_slot(key: str) -> Iterator[None]:
    """Hold one of the ``INSIGNIA_VERIFY_MAX_IN_FLIGHT_PER_CLIENT`` verifications ``key`` may
    have running at once, across every process (a counter in the shared cache), or raise
    :class:`Shed` at once. A burst a client was allowed by the minute's count then runs a few
    at a time instead of taking every worker at once (S-19). The counter expires on its own if
    a process dies holding it; a cache that cannot be reached refuses."""
    limit = settings.INSIGNIA_VERIFY_MAX_IN_FLIGHT_PER_CLIENT
    name = f"insignia:inflight:{key}"
    try:
        cache.add(name, 0, timeout=60)
        running = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=60)
        running = 1
    except Exception:  # the cache backend's own errors, as in common.ratelimit.hit
        raise Shed from None
    try:
        if running > limit:
            raise Shed
        yield
    finally:
        # Expired or unreachable: the counter expires on its own.
        with contextlib.suppress(Exception):
            cache.decr(name)


class Limited(Exception):
    """Refused before verifying: over a rate limit, or too many verifications in flight."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        return _(
            "Too many badges were checked in the last minute. Try again in %(seconds)s seconds."
        ) % {"seconds": self.retry_after}


def verify_within_limits(request: HttpRequest, asked: pipeline.VerifyRequest) -> Report:
    """Verify ``asked`` if this client may, in this order: its verifications per minute,
    then (when a recipient e-mail is typed) its recipient guesses per minute, then a free
    slot in this process (shed at once, never queued). Raises :class:`Limited`."""
    retry = verify_limit(request)
    if retry is None and asked.email.strip():
        retry = recipient_limit(request)
    if retry is not None:
        raise Limited(retry)
    return _in_a_slot(person_key(request), asked)


def _in_a_slot(key: str, asked: pipeline.VerifyRequest) -> Report:
    try:
        if pipeline.runs_cheap(asked):
            with slot():
                return pipeline.verify(asked)
        with client_slot(key), slot():
            return pipeline.verify(asked)
    except Shed:
        raise Limited(1) from None


def verify_as(key: str, asked: pipeline.VerifyRequest) -> Report:
    """Verify ``asked`` for the person ``key`` names (:func:`user_key`), within the same
    per-minute limit and in-flight slots as the verify page and API. Raises :class:`Limited`."""
    retry = count_verification(key)
    if retry is not None:
        raise Limited(retry)
    return _in_a_slot(key, asked)
