"""Pathways, their completions and the issuers a caller reaches, through the REST API v1."""

from __future__ import annotations

import pytest

from awarding.revocation import services as revocation_services
from badges import credentials
from tests.base import Cast
from tests.integrations.test_api_helpers import api, make_world, oauth_auth, staff_auth

pytestmark = pytest.mark.django_db


def test_a_pathway_shows_its_tree_and_who_completed_it(cast: Cast) -> None:
    world = make_world(cast)
    client = api(oauth_auth(cast.owner, cast.institution, "achievements:read"))
    url = f"/api/v1/pathways/{world.pathway.pk}"

    listed = client.get("/api/v1/pathways").json()["results"]
    detail = client.get(url).json()
    completions = client.get(f"{url}/completions").json()["results"]
    nobody = client.get(f"{url}/completions", {"email": "nobody@example.com"}).json()

    assert [p["id"] for p in listed] == [str(world.pathway.pk)]
    assert detail["requirements"]["rule"] == "all"
    assert detail["requirements"]["achievements"] == [str(world.version.achievement_id)]
    assert detail["requirements"]["groups"] == []
    (done,) = completions
    assert done["email"] == world.awards[0].recipient_email
    assert done["credential"] == credentials.credential_url(world.completion.award_id)
    assert done["needs_review"] is False
    assert nobody["results"] == []


def test_a_revoked_counted_award_flags_the_completion_for_the_next_sync(cast: Cast) -> None:
    world = make_world(cast)
    client = api(staff_auth(cast.viewer))
    url = f"/api/v1/pathways/{world.pathway.pk}/completions"
    before = client.get(url).json()["results"][0]

    revocation_services.revoke_award(actor=cast.editor, award=world.awards[0], reason="Error")
    since = client.get(url, {"updated_since": before["updated_at"]}).json()["results"]
    flagged = client.get(url, {"needs_review": "true"}).json()["results"]

    assert [c["id"] for c in flagged] == [before["id"]]
    assert since[0]["needs_review"] is True
    assert since[0]["updated_at"] > before["updated_at"]
    assert (
        client.get("/api/v1/pathways", {"updated_since": before["updated_at"]}).status_code == 400
    )


def test_a_caller_lists_the_issuers_it_reaches_with_what_it_may_do(cast: Cast) -> None:
    world = make_world(cast)
    narrowed = api(
        oauth_auth(cast.owner, cast.institution, f"awards:read issuer:{world.sibling.slug}")
    )
    awarder = api(staff_auth(cast.awarder))

    mine = narrowed.get("/api/v1/issuers").json()["results"]
    theirs = awarder.get("/api/v1/issuers").json()["results"]

    assert [(i["slug"], i["scopes"]) for i in mine] == [(world.sibling.slug, ["awards:read"])]
    assert [i["slug"] for i in theirs] == [cast.issuer.slug, world.sibling.slug]
    assert theirs[0]["scopes"] == ["awards:read", "awards:write", "achievements:read"]
    assert theirs[0]["institution"] == cast.institution.slug
