"""The registry this platform publishes (``/registry/issuers.json``) in DCC's known-issuer
format, and DCC's own ``@digitalcredentials/issuer-registry-client`` (from npm, pinned in
``tests/registry_client/package-lock.json``) reading it from the live test server."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from insignia.demo.services import DEMO_ISSUERS, seed_demo
from issuers import services
from issuers.keys import issuer_did
from issuers.models import Issuer
from tests.badges.helpers import award, make_published
from tests.base import Cast, make_cast, make_issuer

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "dcc-registry"
CLIENT_DIR = ROOT / "registry_client"


def assert_dcc_registry_shape(document: Any) -> None:
    """The shape of DCC's registry.json (``tests/fixtures/dcc-registry``): ``meta`` with ISO
    ``created`` and ``updated``, and ``registry`` mapping each DID to an object of strings
    ``name`` and ``url`` and, when known, ``location`` — and nothing else."""
    sample = json.loads((FIXTURES / "community-registry.registry.json").read_text())
    assert set(document) == set(sample) == {"meta", "registry"}
    assert set(document["meta"]) == set(sample["meta"]) == {"created", "updated"}
    for stamp in document["meta"].values():
        assert datetime.fromisoformat(stamp).tzinfo is not None
    allowed = {key for entry in sample["registry"].values() for key in entry}
    assert allowed == {"name", "location", "url"}
    assert document["registry"], "an empty registry"
    for did, entry in document["registry"].items():
        assert did.startswith("did:")
        assert {"name", "url"} <= set(entry) <= allowed
        assert all(isinstance(value, str) and value for value in entry.values())


def test_the_published_registry_has_dccs_format_and_lists_the_demo_issuers(
    client: Client,
) -> None:
    seed_demo()
    response = client.get("/registry/issuers.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Access-Control-Allow-Origin"] == "*"
    document = response.json()
    assert_dcc_registry_shape(document)
    for fields in DEMO_ISSUERS:
        issuer = Issuer.objects.get(slug=fields["slug"])
        assert document["registry"][issuer_did(issuer)] == {
            "name": fields["name_en"],
            "location": "New Zealand",
            "url": fields["url"],
        }


def test_an_issuer_without_a_usable_key_is_not_listed(cast: Cast, client: Client) -> None:
    award(cast.awarder, make_published(cast.owner, cast.issuer))
    unused = make_issuer(cast.institution, "never-signed", cast.owner)
    document = client.get("/registry/issuers.json").json()
    assert issuer_did(cast.issuer) in document["registry"]
    assert issuer_did(unused) not in document["registry"]
    services.withdraw_signing_key(actor=cast.owner, key=services.active_key(cast.issuer))
    document = client.get("/registry/issuers.json").json()
    assert issuer_did(cast.issuer) not in document["registry"]


def test_the_registry_is_cacheable_with_an_etag(cast: Cast, client: Client) -> None:
    award(cast.awarder, make_published(cast.owner, cast.issuer))
    first = client.get("/registry/issuers.json")
    assert first["Cache-Control"] == "public, max-age=300"
    etag = first["ETag"]
    again = client.get("/registry/issuers.json", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    second = make_issuer(cast.institution, "second", cast.owner)
    services.active_key(second)
    changed = client.get("/registry/issuers.json", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert len(changed.json()["registry"]) == 2


def test_the_known_registries_entry_points_at_the_registry(
    client: Client, settings: Settings
) -> None:
    settings.INSIGNIA_REGISTRY_NAME = "Demo Polytechnic badges"
    entries = client.get("/registry/known-registries.json").json()
    sample = json.loads((FIXTURES / "known-did-registries.json").read_text())
    legacy = next(r for r in sample if r["type"] == "dcc-legacy")
    assert len(entries) == 1
    assert set(entries[0]) == set(legacy)
    assert entries[0] == {
        "name": "Demo Polytechnic badges",
        "type": "dcc-legacy",
        "url": settings.INSIGNIA_BASE_URL + "/registry/issuers.json",
        "governanceUrl": settings.INSIGNIA_BASE_URL + "/",
    }


def _lookup(known_url: str, did: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "Node.js is needed (make interop-deps)"
    assert (
        CLIENT_DIR / "node_modules" / "@digitalcredentials" / "issuer-registry-client"
    ).is_dir(), "run `make interop-deps`"
    completed = subprocess.run(
        [node, "lookup.mjs", known_url, did],
        cwd=CLIENT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


@pytest.mark.django_db(transaction=True)
def test_dccs_registry_client_finds_our_issuer_in_our_published_registry(
    live_server: LiveServer, settings: Settings
) -> None:
    settings.INSIGNIA_BASE_URL = live_server.url
    settings.INSIGNIA_REGISTRY_NAME = "Insignia live test"
    cast = make_cast()
    award(cast.awarder, make_published(cast.owner, cast.issuer))
    known = f"{live_server.url}/registry/known-registries.json"

    result = _lookup(known, issuer_did(cast.issuer))
    assert result["uncheckedRegistries"] == []
    assert len(result["matchingIssuers"]) == 1
    match = result["matchingIssuers"][0]
    assert match["issuer"]["federation_entity"] == {
        "organization_name": cast.issuer.name_en,
        "homepage_uri": cast.issuer.url,
        "location": "New Zealand",
    }
    assert match["registry"]["federation_entity"]["organization_name"] == "Insignia live test"

    missing = _lookup(known, "did:web:elsewhere.example:issuers:nobody")
    assert missing == {"matchingIssuers": [], "uncheckedRegistries": []}
