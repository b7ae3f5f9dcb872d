"""Every door into the verify pipeline is throttled alike (issue 18, item 2): a person's
imports, re-checks and recognition evidence count in the same per-minute bucket and use the
same in-flight slots as the verify page and API, so a self-registered learner cannot run
the pipeline faster by importing than by verifying.

Run with ``-s`` to see the figures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client
from pytest_django.fixtures import Settings

from badges.models import Award
from frameworks.recognition import services as recognition
from tests.badges.helpers import award, make_published
from tests.base import Cast, make_cast
from tests.earners.helpers import make_learner
from verification import ratelimit

pytestmark = pytest.mark.django_db

LIMIT = 4


@pytest.fixture
def given(settings: Settings) -> tuple[Cast, Award]:
    settings.INSIGNIA_VERIFY_RATE_LIMIT = LIMIT
    cache.clear()
    cast = make_cast()
    version = make_published(cast.editor, cast.issuer, slug="welding")
    return cast, award(cast.awarder, version)


def _allowed(send: Callable[[], int]) -> int:
    """How many calls of ``send`` (a callable returning an HTTP status) pass before a 429."""
    for n in range(LIMIT * 3):
        status = send()
        if status == 429:
            return n
    return LIMIT * 3


def test_imports_are_throttled_after_the_same_count_as_the_verify_api(
    client: Client, given: tuple[Cast, Award]
) -> None:
    _cast, demo = given
    api = Client()
    body = {"credential": demo.credential_json}

    def verify_by_api() -> int:
        return api.post("/api/v1/verify", body, content_type="application/json").status_code

    api_allowed = _allowed(verify_by_api)

    client.force_login(make_learner("lee@example.com"))
    imports_allowed = _allowed(
        lambda: client.post("/backpack/imports/", {"text": demo.credential_json}).status_code
    )
    refused = client.post("/backpack/imports/", {"text": demo.credential_json})
    # The same person on the verify page: the bucket is shared, not a second allowance.
    on_the_page = client.post("/verify", {"text": demo.credential_json})

    print(f"\nverify API allowed {api_allowed}/min; imports allowed {imports_allowed}/min")
    assert api_allowed == imports_allowed == LIMIT
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Too many badges were checked in the last minute" in refused.content.decode()
    assert on_the_page.status_code == 429


def test_recognition_evidence_counts_against_the_assessors_limit(
    given: tuple[Cast, Award],
) -> None:
    cast, demo = given
    module = make_published(cast.editor, cast.issuer, slug="local-module").achievement
    case = recognition.open_case(
        actor=cast.editor,
        institution=cast.institution,
        learner_email="learner@example.com",
        module=module,
    )
    added = 0
    with pytest.raises(ratelimit.Limited):
        for _ in range(LIMIT * 3):
            recognition.add_evidence(actor=cast.editor, case=case, text=demo.credential_json)
            added += 1
    print(f"\nrecognition evidence allowed {added}/min per assessor")
    assert added == LIMIT


def test_the_periodic_recheck_is_not_held_to_a_persons_limit(
    client: Client, given: tuple[Cast, Award]
) -> None:
    _cast, demo = given
    from earners import tasks
    from earners.models import ImportedBadge

    learner = make_learner("learner@example.com")  # the badge's own learner (not refused)
    client.force_login(learner)
    assert client.post("/backpack/imports/", {"text": demo.credential_json}).status_code == 302
    for _ in range(LIMIT):
        client.post("/verify", {"text": demo.credential_json})  # the person's bucket is spent

    ImportedBadge.objects.update(checked_at="2020-01-01T00:00:00Z")
    assert tasks.recheck_imports() == 1
