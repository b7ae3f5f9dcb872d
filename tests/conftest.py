"""Suite-wide guards and fixtures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.utils import translation

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
