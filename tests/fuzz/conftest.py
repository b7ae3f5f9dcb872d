"""The fuzz pass (research S-30): collected only when asked for.

``INSIGNIA_FUZZ=1 pytest -s tests/fuzz`` (``make fuzz``) runs it within
``INSIGNIA_FUZZ_SECONDS`` (see ``tests/fuzz/engine.py``). Without ``INSIGNIA_FUZZ=1`` these
files are not even collected, so the ordinary ``pytest`` run neither runs nor skips them.

Every fuzz test is offline: the fetcher resolves no name and connects nowhere (a generated
URL gets the fetcher's own "cannot resolve" answer), and the verification rate limits are
lifted so that every input reaches the pipeline.
"""

from __future__ import annotations

import os
import socket

import pytest
from django.core.cache import cache
from pytest_django.fixtures import Settings

from verification import fetcher

collect_ignore_glob = [] if os.environ.get("INSIGNIA_FUZZ") == "1" else ["test_*.py"]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_resolver(host: str, port: int) -> list[str]:
        raise OSError(f"fuzz: {host} is not resolved (the fuzz pass is offline)")

    def no_connection(address: str, port: int, timeout: float) -> socket.socket:
        raise OSError(f"fuzz: no connection to {address}:{port} (the fuzz pass is offline)")

    monkeypatch.setattr(fetcher, "resolve_host", no_resolver)
    monkeypatch.setattr(fetcher, "open_connection", no_connection)


@pytest.fixture
def unlimited(settings: Settings) -> None:
    """No 429s: every generated request reaches the verify pipeline."""
    cache.clear()
    settings.INSIGNIA_VERIFY_RATE_LIMIT = 10**9
    settings.INSIGNIA_RECIPIENT_RATE_LIMIT = 10**9
    settings.INSIGNIA_VERIFY_MAX_IN_FLIGHT = 10**6
    settings.INSIGNIA_FETCH_ALLOWLIST = {}
