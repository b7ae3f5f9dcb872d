"""Every list of the REST API v1 reads a page in a fixed number of queries, whatever the
page's size, and pages through every object once in a stable order."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from awarding import services as awarding_services
from awarding.bulk import services as bulk_services
from frameworks.pathways import services as pathway_services
from frameworks.pathways.trees import GroupSpec
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.integrations.test_api_helpers import api, make_world, staff_auth

pytestmark = pytest.mark.django_db


def _lists(world: Any) -> list[str]:
    pathway = f"/api/v1/pathways/{world.pathway.pk}"
    achievement = f"/api/v1/achievements/{world.version.achievement_id}"
    return [
        "/api/v1/issuers",
        "/api/v1/achievements",
        f"{achievement}/versions",
        "/api/v1/awards",
        "/api/v1/batches",
        f"/api/v1/batches/{world.batch.pk}/rows",
        "/api/v1/pathways",
        f"{pathway}/completions",
    ]


def _grow(cast: Cast, world: Any) -> None:
    """At least three of everything each list shows."""
    for n in range(3):
        version = make_published(cast.editor, world.sibling, slug=f"more-{n}")
        award(cast.awarder, version, email=f"more{n}@example.com")
        bulk_services.create_batch(
            actor=cast.awarder,
            version=version,
            file_name=f"{n}.csv",
            data=b"Email\na@example.com\nb@example.com\nc@example.com\n",
        )
        editor = api(staff_auth(cast.editor))
        editor.patch(
            f"/api/v1/achievements/{world.version.achievement_id}/draft",
            {"tags": [f"t{n}"]},
            content_type="application/json",
        )
        editor.post(
            f"/api/v1/achievements/{world.version.achievement_id}/publish",
            {},
            content_type="application/json",
        )
    for n in range(2):
        learner = f"path{n}@example.com"
        award(cast.awarder, world.version, email=learner)
        awarding_services.complete_pathway(pathway=world.pathway, email=learner)
        target = make_published(cast.editor, cast.issuer, slug=f"target-{n}")
        pathway_services.create_pathway(
            actor=cast.owner,
            institution=cast.institution,
            title_en=f"Pathway {n}",
            target=target.achievement,
            root=GroupSpec(rule="all", achievements=[world.version.achievement]),
        )


def test_a_page_of_any_list_costs_the_same_queries_for_one_row_or_many(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    world = make_world(cast)
    _grow(cast, world)
    client = api(staff_auth(cast.owner))
    client.get("/api/v1/issuers")  # the token's use is noted at most once a minute

    def count(url: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        return len(captured.captured_queries), len(response.json()["results"])

    for url in _lists(world):
        one, shown_one = count(f"{url}?limit=1")
        many, shown_many = count(f"{url}?limit=200")
        assert (one, shown_one) == (one, 1), url
        assert many == one, (url, one, many, shown_many)
        with django_assert_max_num_queries(10):
            client.get(f"{url}?limit=200")


def test_every_list_pages_through_each_object_once(cast: Cast) -> None:
    world = make_world(cast)
    _grow(cast, world)
    client = api(staff_auth(cast.owner))

    for url in _lists(world):
        whole = client.get(f"{url}?limit=200").json()["results"]
        paged: list[Any] = []
        following: str | None = f"{url}?limit=2"
        while following:
            answer = client.get(following).json()
            paged.extend(answer["results"])
            following = answer["next"]
        assert paged == whole, url
        assert len(whole) >= 2, url
