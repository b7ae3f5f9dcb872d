"""Badges from other issuers: imported by link, JSON or baked image, verified by the verify
pipeline, shown with their verdict and re-checked by the periodic task."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from earners import tasks
from earners.models import ImportedBadge
from tests.earners.helpers import make_learner
from tests.verification.servers import FakeWeb

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SIMPLE = FIXTURES / "1edtech-validator" / "ob30" / "simple.json"
ISSUER = "https://example.com/issuers/876543"


def _profile(keys: list[str]) -> dict[str, object]:
    return {"id": ISSUER, "type": ["Profile"], "assertionMethod": keys}


@pytest.fixture
def web(settings: SettingsWrapper) -> Iterator[FakeWeb]:
    """The 1EdTech example issuer and a badge link, served from a loopback server."""
    cache.clear()
    server = FakeWeb()
    document = json.loads(SIMPLE.read_text())
    server.json(ISSUER, _profile([document["proof"][0]["verificationMethod"]]))
    server.json("https://example.com/badges/simple.json", document)
    settings.INSIGNIA_FETCH_ALLOWLIST = {"example.com": server.address}
    yield server
    server.close()


def test_a_badge_imported_by_link_shows_its_verdict_in_the_backpack(
    client: Client, web: FakeWeb
) -> None:
    client.force_login(make_learner("lee@example.com"))
    response = client.post("/backpack/imports/", {"url": "https://example.com/badges/simple.json"})
    assert response.status_code == 302

    page = client.get("/backpack/").content.decode()
    assert "Teamwork Badge" in page and "Example Corp" in page
    assert 'data-import-verdict="valid"' in page


def test_pasted_json_and_a_baked_image_are_imported_too(client: Client, web: FakeWeb) -> None:
    client.force_login(make_learner("lee@example.com"))
    client.post("/backpack/imports/", {"text": SIMPLE.read_text()})
    with (FIXTURES / "baked" / "simple-json.png").open("rb") as image:
        client.post("/backpack/imports/", {"file": image})

    found = list(ImportedBadge.objects.order_by("created_at").values_list("source", "format"))
    assert found == [("json", "ob3"), ("image", "ob3")]


def test_something_that_is_not_a_badge_is_refused(client: Client, db: None) -> None:
    client.force_login(make_learner("lee@example.com"))
    response = client.post("/backpack/imports/", {"text": '{"hello": "world"}'})
    assert response.status_code == 400
    assert not ImportedBadge.objects.exists()


def test_the_periodic_recheck_notices_when_a_badge_stops_verifying(
    client: Client, web: FakeWeb
) -> None:
    client.force_login(make_learner("lee@example.com"))
    client.post("/backpack/imports/", {"text": SIMPLE.read_text()})
    imported = ImportedBadge.objects.get()
    assert imported.verdict == "valid"

    web.json(ISSUER, _profile([]))  # the issuer withdrew the key
    ImportedBadge.objects.update(checked_at=timezone.now() - dt.timedelta(days=2))
    cache.clear()
    assert tasks.recheck_imports() == 1

    imported.refresh_from_db()
    assert imported.verdict != "valid"
    assert 'data-import-verdict="valid"' not in client.get("/backpack/").content.decode()


def test_a_learner_cannot_remove_or_see_another_learners_imports(
    client: Client, web: FakeWeb
) -> None:
    client.force_login(make_learner("ann@example.com"))
    client.post("/backpack/imports/", {"text": SIMPLE.read_text()})
    theirs = ImportedBadge.objects.get()
    client = Client()
    client.force_login(make_learner("bob@example.com"))

    assert "Teamwork Badge" not in client.get("/backpack/imports/").content.decode()
    response = client.post("/backpack/imports/", {"action": "remove", "id": str(theirs.pk)})
    assert response.status_code == 404
    assert ImportedBadge.objects.filter(pk=theirs.pk).exists()
