"""Public URLs: a credential, an achievement and its versions, for people and machines.
No recipient e-mail appears on any of them."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from achievements import services
from badges import selectors
from badges.models import Award
from badges.services import EvidenceItem
from tests.badges.helpers import award, make_published
from tests.base import Cast

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def issued(cast: Cast) -> Award:
    version = make_published(
        cast.editor,
        cast.issuer,
        criteria_en="Pass the test. <script>alert('x')</script> [docs](https://docs.example)",
    )
    return award(
        cast.awarder,
        version,
        narrative="Built a dashboard.",
        evidence=[EvidenceItem(url="https://portfolio.example/lee", narrative="Report")],
    )


@pytest.mark.parametrize(
    "accept", ["application/vc+ld+json", "application/ld+json", "application/json"]
)
def test_machines_get_the_exact_signed_json(client: Client, issued: Award, accept: str) -> None:
    response = client.get(f"/credentials/{issued.pk}", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == f"{accept}; charset=utf-8"
    assert response.content == issued.credential_json.encode("utf-8")
    assert "Accept" in response["Vary"]


def test_the_json_suffix_serves_the_same_bytes(client: Client, issued: Award) -> None:
    response = client.get(f"/credentials/{issued.pk}.json", HTTP_ACCEPT=BROWSER)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.content == issued.credential_json.encode("utf-8")
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("accept", [BROWSER, "*/*", ""])
def test_people_get_a_page_about_the_credential(client: Client, issued: Award, accept: str) -> None:
    response = client.get(f"/credentials/{issued.pk}", HTTP_ACCEPT=accept)
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert "Data Literacy" in body
    # the learner's name only once they choose to show it (issue 20, D13)
    assert "Awarded to a learner identified by a hashed e-mail address" in body
    assert "Built a dashboard." in body
    assert "https://portfolio.example/lee" in body
    assert f"/credentials/{issued.pk}.json" in body


def test_criteria_markdown_is_rendered_and_scripts_are_not(client: Client, issued: Award) -> None:
    body = client.get(f"/credentials/{issued.pk}").content.decode()
    assert '<a href="https://docs.example"' in body
    assert "<script>alert" not in body


def test_an_unknown_credential_is_not_found(client: Client, cast: Cast) -> None:
    response = client.get("/credentials/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404


def test_the_version_url_is_the_achievement_id_and_serves_json_ld(
    client: Client, issued: Award
) -> None:
    achievement = issued.credential["credentialSubject"]["achievement"]
    path = achievement["id"].split("://", 1)[1].split("/", 1)[1]
    document = client.get(f"/{path}", HTTP_ACCEPT="application/ld+json").json()
    assert document["id"] == achievement["id"]
    assert document["type"] == ["Achievement"]
    assert document["version"] == "1"
    assert document["name"] == "Data Literacy"
    assert document["creator"]["id"] == issued.credential["issuer"]["id"]
    page = client.get(f"/{path}", HTTP_ACCEPT=BROWSER).content.decode()
    assert "Data Literacy" in page
    assert "Version 1" in page


def test_the_achievement_page_lists_every_version_and_what_changed(
    client: Client, cast: Cast, issued: Award
) -> None:
    achievement = issued.achievement_version.achievement
    services.save_draft(
        actor=cast.editor,
        achievement=achievement,
        name_en="Data Literacy Plus",
        validity_days=365,
        change_note="Shorter validity; new name.",
    )
    draft = selectors.draft_of(achievement)
    assert draft is not None
    services.publish_version(actor=cast.editor, version=draft)

    body = client.get(f"/achievements/{achievement.pk}", HTTP_ACCEPT=BROWSER).content.decode()

    assert "Version 2" in body and "Version 1" in body
    assert "Shorter validity; new name." in body
    assert "2 fields changed" in body
    assert "<del>Data Literacy</del> → <ins>Data Literacy Plus</ins>" in body
    assert "<del>730 days</del> → <ins>365 days</ins>" in body
    # The old version stays at its URL, with a pointer to the current one.
    old = client.get(f"/achievements/{achievement.pk}/v/1", HTTP_ACCEPT=BROWSER).content.decode()
    assert "This is version 1." in old
    assert f"/achievements/{achievement.pk}/v/2" in old


def test_drafts_are_not_public(client: Client, cast: Cast, issued: Award) -> None:
    achievement = issued.achievement_version.achievement
    services.save_draft(actor=cast.editor, achievement=achievement, name_en="Secret draft")
    assert client.get(f"/achievements/{achievement.pk}/v/2").status_code == 404
    assert "Secret draft" not in client.get(f"/achievements/{achievement.pk}").content.decode()
    unpublished = services.create_achievement(
        actor=cast.editor, issuer=cast.issuer, slug="hidden", name_en="Hidden"
    )
    assert client.get(f"/achievements/{unpublished.pk}").status_code == 404
    assert client.get(f"/achievements/{unpublished.pk}/v/1").status_code == 404


def test_no_public_page_shows_the_recipient_email(client: Client, issued: Award) -> None:
    achievement = issued.achievement_version.achievement
    urls = [
        f"/credentials/{issued.pk}",
        f"/credentials/{issued.pk}.json",
        f"/achievements/{achievement.pk}",
        f"/achievements/{achievement.pk}/v/1",
        f"/issuers/{issued.issuer.slug}",
        f"/issuers/{issued.issuer.slug}/did.json",
    ]
    for url in urls:
        for accept in (BROWSER, "application/json"):
            body = client.get(url, HTTP_ACCEPT=accept).content.decode().lower()
            assert "learner@example.com" not in body, url
    assert issued.recipient_email == "learner@example.com"
    assert json.loads(issued.credential_json)["credentialSubject"]["identifier"][0]["hashed"]
