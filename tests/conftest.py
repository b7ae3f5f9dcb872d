"""Suite-wide guards and fixtures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation

from bench._celery_drill import free_port, start_redis, stop

if TYPE_CHECKING:
    from tests.base import Cast


def pytest_configure(config: pytest.Config) -> None:
    if not settings.TESTING:
        raise pytest.UsageError("Run the suite with INSIGNIA_ENV=test (`make test` does).")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Every test that touches the database runs on PostgreSQL; the Django-free tests
    (``tests/openbadges``) run without any database server."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(
            f"The test suite runs on PostgreSQL only, but the database engine is {engine}. "
            "Run `make test`, or set DATABASE_URL=postgres://… and INSIGNIA_ENV=test.",
            returncode=4,
        )


@pytest.fixture(autouse=True)
def _english_by_default() -> None:
    """Each test starts in English unless it asks for another language."""
    translation.activate("en")


@pytest.fixture
def cast(db: None) -> Cast:
    from tests.base import make_cast  # models import only once Django is set up

    return make_cast()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server of the tests' own, started for the session (real, on loopback)."""
    port = free_port()
    server = start_redis(port, tmp_path_factory.mktemp("redis"))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(server)


@pytest.fixture
def view_buffer(redis_url: str) -> Iterator[str]:
    """Badge-page views of this test are counted in a buffer of its own in that Redis."""
    key = f"test-views-{uuid.uuid4().hex}"
    with override_settings(INSIGNIA_VIEW_BUFFER_URL=redis_url, INSIGNIA_VIEW_BUFFER_KEY=key):
        yield key
