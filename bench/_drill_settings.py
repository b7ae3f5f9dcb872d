"""Settings for ``bench/drill_verify_abuse.py``: the production settings, and three changes a
drill on one machine needs (never use these for a deployment).

- ``BENCH_FETCH_ALLOWLIST`` (JSON ``{"host": "127.0.0.1:port"}``) lets the verifier fetch
  from a loopback test host standing in for a remote one, as the test suite does
  (``verification.fetcher``); production settings otherwise never allow that.
- ``BENCH_STATIC_ROOT``: where ``collectstatic`` puts the files WhiteNoise serves, so the drill
  does not write into the checkout's ``var/static``.
- ``BENCH_CACHE_PREFIX``: a key prefix for the shared Redis, so the drill's rate-limit counters
  never meet anyone else's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from insignia.settings import *  # noqa: F403 - the production settings, changed below
from insignia.settings import CACHES, STATIC_ROOT

INSIGNIA_FETCH_ALLOWLIST = {
    str(k): str(v) for k, v in json.loads(os.environ.get("BENCH_FETCH_ALLOWLIST", "{}")).items()
}
STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", str(STATIC_ROOT)))
CACHES["default"]["KEY_PREFIX"] = os.environ.get("BENCH_CACHE_PREFIX", "")
