"""Least privilege inside an institution (issue 18, item 4): staff given one issuer read that
issuer's awards, uploads and figures only. Another issuer of the same institution — its
learners' names and e-mails, its upload results, its counts — stays out of their sight on
every read route, in the console and in the API.

Run with ``-s`` to see the figure."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from awarding.bulk import services as bulk_services
from issuers.models import Role
from tests.badges.helpers import award, make_published
from tests.base import add_member, make_cast, make_issuer, make_user

pytestmark = pytest.mark.django_db

SIBLING_EMAIL = "sibling.learner@example.com"
SIBLING_NAME = "Sibling Learner"


@pytest.fixture
def world() -> dict[str, Any]:
    cast = make_cast()
    sibling = make_issuer(cast.institution, "poly-arts", cast.owner)
    scoped = make_user("scoped@poly.example", "Sam Scoped")
    add_member(scoped, cast.institution, Role.EDITOR, issuer=cast.issuer)
    mine = make_published(cast.owner, cast.issuer, slug="welding")
    theirs = make_published(cast.owner, sibling, slug="painting")
    my_award = award(cast.owner, mine, email="mine@example.com", name="My Learner")
    their_award = award(cast.owner, theirs, email=SIBLING_EMAIL, name=SIBLING_NAME)
    their_batch = bulk_services.create_batch(
        actor=cast.owner,
        version=theirs,
        file_name="arts.csv",
        data=f"Email,Name\n{SIBLING_EMAIL},{SIBLING_NAME}\n".encode(),
    )
    return {
        "cast": cast,
        "scoped": scoped,
        "mine": mine,
        "theirs": theirs,
        "my_award": my_award,
        "their_award": their_award,
        "their_batch": their_batch,
    }


def test_issuer_scoped_staff_read_nothing_of_a_sibling_issuer(
    client: Client, world: dict[str, Any]
) -> None:
    cast, scoped = world["cast"], world["scoped"]
    slug = cast.institution.slug
    client.force_login(scoped)
    their_award, their_batch = world["their_award"], world["their_batch"]

    # Routes naming a sibling issuer's record: 404, as for another institution's.
    named = {
        "award detail": reverse("manage:award_detail", args=[slug, their_award.pk]),
        "upload page": reverse("manage:bulk_batch", args=[slug, their_batch.pk]),
        "upload progress": reverse("manage:bulk_progress", args=[slug, their_batch.pk]),
        "upload results.csv": reverse("manage:bulk_results", args=[slug, their_batch.pk]),
        "API award": f"/api/v1/awards/{their_award.pk}",
    }
    # Lists and figures: the sibling issuer's learners never appear in them.
    lists = {
        "awards list": reverse("manage:awards", args=[slug]),
        "dashboard": reverse("manage:dashboard", args=[slug]),
        "identity changes": reverse("manage:identity_changes", args=[slug]),
        "API awards": "/api/v1/awards",
    }
    leaks = []
    for label, url in named.items():
        answer = client.get(url)
        if answer.status_code not in (403, 404) or SIBLING_EMAIL in answer.content.decode():
            leaks.append(f"{label}: {answer.status_code}")
    for label, url in lists.items():
        answer = client.get(url)
        body = answer.content.decode()
        # 403 (a page for institution-wide staff only) shows nothing either.
        if answer.status_code not in (200, 403) or SIBLING_EMAIL in body or SIBLING_NAME in body:
            leaks.append(f"{label}: {answer.status_code}")

    total = len(named) + len(lists)
    print(f"\nsibling-issuer reads: {len(leaks)} of {total} routes ({', '.join(leaks) or 'none'})")
    assert leaks == []

    # The dashboard counts only their own issuer's awards.
    dashboard = client.get(reverse("manage:dashboard", args=[slug])).context["reach"]
    assert dashboard["awards"] == 1
    # And what is theirs they still read.
    own = client.get(reverse("manage:award_detail", args=[slug, world["my_award"].pk]))
    assert own.status_code == 200
    assert "mine@example.com" in own.content.decode()
    listed = client.get(reverse("manage:awards", args=[slug])).content.decode()
    assert "mine@example.com" in listed


def test_institution_wide_staff_still_read_every_issuer(
    client: Client, world: dict[str, Any]
) -> None:
    cast = world["cast"]
    client.force_login(cast.viewer)  # an institution-wide viewer
    listed = client.get(reverse("manage:awards", args=[cast.institution.slug])).content.decode()

    assert SIBLING_EMAIL in listed and "mine@example.com" in listed
    detail = reverse("manage:award_detail", args=[cast.institution.slug, world["their_award"].pk])
    assert client.get(detail).status_code == 200
