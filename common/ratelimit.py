"""A fixed-window counter in the shared cache: every per-client limit (verification, sign-up
and reset e-mails, client registration) counts with it."""

from __future__ import annotations

import time

from django.core.cache import cache


def hit(scope: str, client: str, *, limit: int, window: int = 60) -> int | None:
    """Count one request of ``client`` in ``scope``; ``None`` if allowed, else the seconds to
    wait for the next window."""
    now = time.time()
    slot = int(now // window)
    key = f"insignia:rl:{scope}:{client}:{slot}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        return max(1, int(window - (now % window)) + 1)
    return None
