"""Schemathesis against the REST API v1's own OpenAPI document, through the WSGI app with a
seeded institution's credential: no answer is a server error, and every answer (status,
content type, headers, body) is one the document describes.

Every check runs but "schema-valid data is accepted": what JSON Schema cannot say (a CSV
with an Email column, a criterion to revoke by, a draft complete enough to publish) is
refused with 400 as documented."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from schemathesis.core.result import Ok

from insignia.wsgi import application
from tests.base import Cast
from tests.integrations.test_api_helpers import make_world, staff_auth

pytestmark = pytest.mark.django_db

# The operations of ``integrations.v1`` (the verify and frameworks APIs under /api/v1/ belong
# to their own apps and are tested there).
OURS = {"awards", "achievements", "batches", "pathways", "issuers"}


@pytest.fixture
def same_connection() -> Iterator[None]:
    """Requests run inside the test's transaction, as Django's test client keeps them: the
    handler must not close the connection after each one."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _fuzz(operation: Any, auth: dict[str, str], real: dict[str, Any] | None) -> None:
    """A few generated requests to one operation (naming the seeded objects if ``real``)."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=5,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        if case.query:  # an opaque cursor is ours or refused: random ones are refused
            case.query.pop("cursor", None)
        if real is not None and case.path_parameters:
            for name in case.path_parameters:
                case.path_parameters[name] = real.get(name, case.path_parameters[name])
        case.call_and_validate(headers=auth, excluded_checks=[checks.positive_data_acceptance])

    check()


def test_the_v1_api_answers_as_its_schema_says(cast: Cast, same_connection: None) -> None:
    world = make_world(cast)
    auth = {"Authorization": staff_auth(cast.owner)}
    # Generated ids name nothing (404); the second round names the seeded objects instead,
    # so that generated bodies and queries reach the services.
    real = {
        "achievement_id": str(world.version.achievement_id),
        "award_id": str(world.awards[1].pk),
        "batch_id": str(world.batch.pk),
        "pathway_id": str(world.pathway.pk),
        "institution": cast.institution.slug,
        "number": 1,
    }
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        if not operation.path.startswith("/api/v1/") or not set(operation.tags or ()) & OURS:
            continue
        tested += 1
        for seeded in (None, real):
            try:
                _fuzz(operation, auth, seeded)
            except (Exception, BaseExceptionGroup) as error:  # report every failure at once
                failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert tested > 20
    assert not failures, "\n\n".join(failures)
