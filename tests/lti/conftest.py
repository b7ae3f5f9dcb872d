"""Two real LTI platforms (``tests/lms``, built on the PyPI package ``lti1p3platform``) for the
whole session, each its own process on loopback; each test lets the safe fetcher reach them."""

from __future__ import annotations

import atexit
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from pytest_django.fixtures import Settings

from tests.lms.server import Lms, start_lms


@pytest.fixture(scope="session")
def lms_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lms, Lms]]:
    logs = tmp_path_factory.mktemp("lms")
    first = start_lms(logs / "moodle.log")
    atexit.register(first.stop)
    second = start_lms(logs / "other.log")
    atexit.register(second.stop)
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
def lms(lms_pair: tuple[Lms, Lms], settings: Settings) -> Lms:
    """One platform, reachable through the fetcher (loopback, allow-listed as a test host)."""
    first, second = lms_pair
    settings.INSIGNIA_FETCH_ALLOWLIST = {first.host: first.host, second.host: second.host}
    cache.clear()
    return first


@pytest.fixture
def other_lms(lms_pair: tuple[Lms, Lms], lms: Lms) -> Lms:
    return lms_pair[1]
