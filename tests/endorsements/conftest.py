"""Each test starts with empty rate limits and verifier caches; the fake web of the verifier
tests stands in for other platforms."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.verification.conftest import web  # noqa: F401 - the fixture, shared
from verification import cache as vcache


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    cache.clear()
    vcache.clear_local()
