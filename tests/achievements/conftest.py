"""Fixtures shared by the achievements tests: the reference frameworks, as in frameworks."""

from __future__ import annotations

import pytest

from tests.frameworks.helpers import reference


@pytest.fixture(autouse=True)
def _reference(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("django_db") is not None:
        reference()
