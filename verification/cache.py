"""Documents other sites publish, kept for as long as they say they may be.

A verification of a remote credential fetches its issuer's key document (a did:web DID
document or an https controller document) and its status list. Thousands of credentials of
one issuer share both, so refetching them for every credential costs the issuer's host a
request each time (S-19) and us a round trip and, for a status list, a canonicalization of
its proof. What is kept, and for how long:

- **key documents**: the parsed JSON, for the ``Cache-Control: max-age`` its host sent (at
  most :data:`KEY_MAX_SECONDS`), :data:`KEY_DEFAULT_SECONDS` when it sent none; not kept at
  all under ``no-store``/``no-cache``. The binding checks of :mod:`verification.keyresolve`
  run again on every use: only the download is saved;
- **status lists**: only a list whose own proof was verified with its issuer's key
  (:mod:`verification.status`), for the shorter of its ``ttl`` and its ``max-age``, at most
  :data:`STATUS_MAX_SECONDS`; a list whose issuer gives neither is not kept (a revocation
  must show). A list that failed its check is never kept, and the next verification
  downloads and checks it again;
- **failures** (a host that did not answer, an error status): the failure, for
  :data:`NEGATIVE_SECONDS`, so a dead host is not asked again by every verification.

Entries live in Django's cache (Redis in production, shared by every web process) and, for
the most recently used :data:`LRU_SIZE`, in this process too, which saves the round trip to
Redis; every copy carries the time it expires, so the in-process one never outlives the
shared one. With a local-memory cache (development, tests) there is no round trip to save
and no second copy is kept, so clearing that cache clears everything. Our own documents are never
kept here: they are answered from the database in process (:mod:`verification.fetcher`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.core.cache import cache

KEY_DEFAULT_SECONDS: Final = 300
KEY_MAX_SECONDS: Final = 3600
STATUS_MAX_SECONDS: Final = 300
NEGATIVE_SECONDS: Final = 15
LRU_SIZE: Final = 256


@dataclass(frozen=True)
class Failure:
    """A fetch that failed, remembered briefly: the ``code`` and ``detail`` to report."""

    code: str
    detail: str


_lru: OrderedDict[str, tuple[float, Any]] = OrderedDict()
_lock = threading.Lock()


def _namespace() -> str:
    """Empty in production. In tests, ``INSIGNIA_FETCH_ALLOWLIST`` says which loopback server
    answers for a host name, so what one test's server said about ``issuer.example`` is not
    what the next test's says: the allow-list is part of every key."""
    allow = settings.INSIGNIA_FETCH_ALLOWLIST
    if not allow:
        return ""
    text = repr(sorted((str(k), str(v)) for k, v in dict(allow).items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _key(kind: str, url: str) -> str:
    digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()
    return f"insignia:vcache:{kind}:{_namespace()}:{digest}"


def _local_copies() -> bool:
    """Whether to keep copies in this process: only in front of a shared (remote) cache."""
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    return not backend.endswith("LocMemCache")


def get(kind: str, url: str) -> Any | None:
    """What was kept for ``url`` (a document, or a :class:`Failure`), else ``None``."""
    key = _key(kind, url)
    now = time.time()
    local = _local_copies()
    with _lock:
        found = _lru.get(key) if local else None
        if found is not None:
            if found[0] > now:
                _lru.move_to_end(key)
                return found[1]
            del _lru[key]
    try:
        shared = cache.get(key)
    except Exception:  # an unreachable cache only costs the download
        return None
    if not isinstance(shared, tuple) or len(shared) != 2 or shared[0] <= now:
        return None
    if local:
        _remember(key, shared[0], shared[1])
    return shared[1]


def put(kind: str, url: str, value: Any, seconds: float) -> None:
    """Keep ``value`` for ``url`` for ``seconds`` (nothing when ``seconds`` ≤ 0)."""
    if seconds <= 0:
        return
    key = _key(kind, url)
    until = time.time() + seconds
    if _local_copies():
        _remember(key, until, value)
    try:
        cache.set(key, (until, value), timeout=int(seconds) + 1)
    except Exception:  # the in-process copy still saves this process the download
        return


def forget(kind: str, url: str) -> None:
    key = _key(kind, url)
    with _lock:
        _lru.pop(key, None)
    try:
        cache.delete(key)
    except Exception:  # it expires on its own
        return


def _remember(key: str, until: float, value: Any) -> None:
    with _lock:
        _lru[key] = (until, value)
        _lru.move_to_end(key)
        while len(_lru) > LRU_SIZE:
            _lru.popitem(last=False)


def clear_local() -> None:
    """Drop this process's copies (the shared cache keeps its own)."""
    with _lock:
        _lru.clear()


def max_age(headers: dict[str, str]) -> float | None:
    """Seconds ``Cache-Control`` allows: ``max-age``, 0 for ``no-store``/``no-cache``/
    ``private``, ``None`` when the header says nothing about it."""
    value = headers.get("cache-control", "")
    if not value:
        return None
    seconds: float | None = None
    for part in value.lower().split(","):
        name, _sep, argument = part.strip().partition("=")
        if name in ("no-store", "no-cache", "private"):
            return 0.0
        if name == "max-age":
            argument = argument.strip().strip('"')
            seconds = float(argument) if argument.isdigit() else 0.0
    return seconds


def key_seconds(headers: dict[str, str]) -> float:
    """How long a key document may be kept."""
    allowed = max_age(headers)
    if allowed is None:
        return KEY_DEFAULT_SECONDS
    return min(allowed, KEY_MAX_SECONDS)


def status_seconds(headers: dict[str, str], ttl: Any) -> float:
    """How long a verified status list may be kept: the shorter of its ``ttl`` (milliseconds,
    Bitstring Status List §2.2) and its ``max-age``; 0 when it states neither."""
    limits: list[float] = []
    if isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl >= 0:
        limits.append(float(ttl) / 1000)
    allowed = max_age(headers)
    if allowed is not None:
        limits.append(allowed)
    if not limits:
        return 0.0
    return min(*limits, STATUS_MAX_SECONDS)
