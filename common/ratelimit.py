"""A fixed-window counter in the shared cache: every per-client limit (verification, sign-up
and reset e-mails, client registration) counts with it.

When the cache cannot be reached (Redis down or timing out), a limit fails closed: the request
is refused for a few seconds, never let through uncounted and never turned into a 500.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from django.core.cache import cache

logger = logging.getLogger(__name__)

#: Seconds to wait when the counter cannot be read (S-19: a limit never fails open).
UNAVAILABLE_RETRY: Final = 5


def _key(scope: str, client: str, window: int, now: float) -> str:
    return f"insignia:rl:{scope}:{client}:{int(now // window)}"


def _retry(window: int, now: float) -> int:
    return max(1, int(window - (now % window)) + 1)


def hit(scope: str, client: str, *, limit: int, window: int = 60) -> int | None:
    """Count one request of ``client`` in ``scope``; ``None`` if allowed, else the seconds to
    wait for the next window."""
    now = time.time()
    key = _key(scope, client, window, now)
    try:
        cache.add(key, 0, timeout=window + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=window + 1)
            count = 1
    except Exception:  # the cache backend's own errors (redis.ConnectionError, timeouts)
        logger.warning("rate limit %s: the cache cannot be reached; refusing", scope)
        return UNAVAILABLE_RETRY
    if count > limit:
        return _retry(window, now)
    return None


def over(scope: str, client: str, *, limit: int, window: int = 60) -> int | None:
    """Whether ``client`` is already over ``limit`` in this window, without counting: the
    seconds to wait, else ``None``. One cache read, for refusing a flood before any work."""
    now = time.time()
    try:
        count = cache.get(_key(scope, client, window, now))
    except Exception:  # as in :func:`hit`
        return UNAVAILABLE_RETRY
    if isinstance(count, int) and count >= limit:
        return _retry(window, now)
    return None
