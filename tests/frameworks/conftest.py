"""Fixtures shared by the frameworks tests."""

from __future__ import annotations

import pytest

from tests.frameworks.helpers import reference


@pytest.fixture(autouse=True)
def _reference(request: pytest.FixtureRequest) -> None:
    """Every database test starts with the reference frameworks, credit systems and policies
    loaded. The pure tests (``test_clr``) have no database; ``test_interop`` loads them itself,
    inside its live server's settings."""
    if request.node.get_closest_marker("django_db") is not None:
        reference()
