"""Trusted-issuer registries consulted by the verify pipeline: "listed in: …" or a warning.

The registries are real HTTP servers on loopback (``FakeWeb``, a threaded ``http.server``)
serving DCC's sandbox registry (``tests/fixtures/dcc-registry``) with a test issuer's DID
added; the verifier reaches them through the safe fetcher as it would reach DCC's.
"""

from __future__ import annotations

import copy
import io
import json
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.test import Client
from pytest_django.fixtures import Settings

import common.ratelimit
from openbadges import multikey
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.verification.conftest import Tripwire, allow
from tests.verification.helpers import did_key_credential
from tests.verification.servers import FakeWeb, Route
from verification import pipeline, registries
from verification.models import Receipt
from verification.report import Verdict

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dcc-registry"
SANDBOX_URL = "https://registry.example/sandbox-registry/registry.json"
COMMUNITY_URL = "https://community.example/registry.json"
SANDBOX = {"name": "DCC Sandbox Registry", "url": SANDBOX_URL}
COMMUNITY = {"name": "DCC Community Registry", "url": COMMUNITY_URL}


@pytest.fixture(autouse=True)
def one_rate_limit_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limits' clock stands still (as in test_page_api_cli)."""
    monkeypatch.setattr(common.ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


def fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return document


def with_issuer(name: str, did: str, entry: dict[str, str]) -> dict[str, Any]:
    """DCC's registry fixture ``name`` with ``did`` added, as its README says to add one."""
    document = copy.deepcopy(fixture(name))
    document["registry"][did] = entry
    return document


KEY = Ed25519PrivateKey.generate()
DID = multikey.did_key(KEY.public_key())
ENTRY = {
    "name": "Example University",
    "location": "Auckland, New Zealand",
    "url": "https://u.example",
}


def credential_text() -> str:
    return json.dumps(did_key_credential(KEY))


def serve(web: FakeWeb, settings: Settings, url: str, document: Any) -> None:
    web.json(url, document)
    allow(settings, web, url.split("/")[2])


def registry_requests(web: FakeWeb, url: str) -> int:
    path = "/" + url.split("/", 3)[3]
    return sum(1 for _host, asked in web.requests if asked == path)


def test_the_page_and_the_api_say_which_registry_lists_the_issuer(
    client: Client, web: FakeWeb, settings: Settings
) -> None:
    serve(web, settings, SANDBOX_URL, with_issuer("sandbox-registry.registry.json", DID, ENTRY))
    serve(web, settings, COMMUNITY_URL, fixture("community-registry.registry.json"))
    settings.INSIGNIA_ISSUER_REGISTRIES = [COMMUNITY, SANDBOX]

    page = client.post("/verify", {"text": credential_text()}).content.decode()
    assert 'data-verdict="valid"' in page
    assert 'data-registries="listed"' in page
    assert "Listed in: DCC Sandbox Registry." in page
    assert 'data-registry="DCC Sandbox Registry"' in page
    assert 'data-registry="DCC Community Registry"' not in page

    answer = client.post("/api/v1/verify", {"credential": credential_text()}, "application/json")
    body = answer.json()
    assert body["verdict"] == "valid"
    identity = next(c for c in body["checks"] if c["id"] == "issuer_identity")
    assert identity["status"] == "pass"
    assert identity["title"] == "Issuer identity"
    assert identity["message"] == "Listed in: DCC Sandbox Registry."
    listed = body["issuer_registries"]
    assert listed["status"] == "listed"
    assert listed["listed_in"] == [
        {"registry": "DCC Sandbox Registry", **ENTRY},
    ]
    assert listed["consulted"] == ["DCC Community Registry", "DCC Sandbox Registry"]
    # The identity check sits right after the key check.
    ids = [c["id"] for c in body["checks"]]
    assert ids[ids.index("issuer_key") + 1] == "issuer_identity"


def test_listed_in_is_shown_in_chinese(client: Client, web: FakeWeb, settings: Settings) -> None:
    serve(web, settings, SANDBOX_URL, with_issuer("sandbox-registry.registry.json", DID, ENTRY))
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX]
    page = client.post(
        "/verify", {"text": credential_text()}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "颁发单位身份" in page
    assert "收录于：DCC Sandbox Registry。" in page
    assert "收录于：</span>" in page


def test_an_issuer_in_two_registries_is_listed_in_both_in_the_configured_order(
    web: FakeWeb, settings: Settings
) -> None:
    serve(web, settings, SANDBOX_URL, with_issuer("sandbox-registry.registry.json", DID, ENTRY))
    serve(
        web,
        settings,
        COMMUNITY_URL,
        with_issuer("community-registry.registry.json", DID, {"name": "Example Uni", "url": ""}),
    )
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX, COMMUNITY]
    report = pipeline.verify(pipeline.VerifyRequest(text=credential_text()))
    identity = report.check("issuer_identity")
    assert identity is not None
    assert identity.message == "Listed in: DCC Sandbox Registry, DCC Community Registry."


def test_an_unlisted_issuer_gets_a_warning_and_the_verdict_stays_valid(
    client: Client, web: FakeWeb, settings: Settings
) -> None:
    serve(web, settings, SANDBOX_URL, fixture("sandbox-registry.registry.json"))
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX]
    page = client.post("/verify", {"text": credential_text()}).content.decode()
    assert 'data-verdict="valid"' in page
    assert "Valid: this badge is genuine" in page
    assert 'data-check="issuer_identity" data-status="warning"' in page
    assert "Not listed in any trusted registry." in page
    assert "data-registries-warning" in page

    page = client.post(
        "/verify", {"text": credential_text()}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert 'data-verdict="valid"' in page
    assert "未收录于任何受信任名录。" in page


def test_a_registry_that_is_down_is_named_and_the_verdict_stays_valid(
    client: Client, settings: Settings
) -> None:
    # A port nobody listens on: the registry's server is down.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    settings.INSIGNIA_FETCH_ALLOWLIST = {"registry.example": closed}
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX]
    page = client.post("/verify", {"text": credential_text()}).content.decode()
    assert 'data-verdict="valid"' in page
    assert 'data-check="issuer_identity" data-status="warning"' in page
    assert (
        "Not listed in any trusted registry that could be checked. Could not check: "
        "DCC Sandbox Registry (could not be reached)."
    ) in page
    assert 'data-registry-problem="unreachable"' in page

    page = client.post(
        "/verify", {"text": credential_text()}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "无法检查：DCC Sandbox Registry（无法连接）。" in page


def test_a_registry_answering_an_error_status_is_unreachable(
    web: FakeWeb, settings: Settings
) -> None:
    web.add(SANDBOX_URL, Route(status=503, body=b"maintenance", content_type="text/plain"))
    allow(settings, web, "registry.example")
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX]
    report = pipeline.verify(pipeline.VerifyRequest(text=credential_text()))
    assert report.verdict is Verdict.VALID
    assert report.registries is not None
    assert report.registries["could_not_check"] == [
        {"registry": "DCC Sandbox Registry", "code": "unreachable"}
    ]


def test_an_oversized_registry_is_refused_with_a_clear_warning(
    client: Client, web: FakeWeb, settings: Settings
) -> None:
    serve(web, settings, SANDBOX_URL, with_issuer("sandbox-registry.registry.json", DID, ENTRY))
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX]
    settings.INSIGNIA_REGISTRY_MAX_BYTES = 1024  # the fixture is about 7.5 KiB
    response = client.post("/verify", {"text": credential_text()})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-verdict="valid"' in page
    assert "DCC Sandbox Registry (too large to read)" in page
    assert 'data-registry-problem="too_large"' in page


@pytest.mark.parametrize(
    "body",
    [
        b"<html>not a registry</html>",
        b'{"meta": {}, "entries": {}}',
        b'["did:key:z6Mk"]',
        b'{"registry": "did:key:z6Mk"}',
    ],
)
def test_a_malformed_registry_is_a_clear_warning_not_an_error(
    client: Client, web: FakeWeb, settings: Settings, body: bytes
) -> None:
    web.add(SANDBOX_URL, Route(body=body))
    allow(settings, web, "registry.example")
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX]
    response = client.post("/verify", {"text": credential_text()})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-verdict="valid"' in page
    assert "DCC Sandbox Registry (not in the registry format)" in page


def test_entries_that_are_not_objects_are_skipped_and_the_rest_still_match(
    web: FakeWeb, settings: Settings
) -> None:
    document = with_issuer("sandbox-registry.registry.json", DID, ENTRY)
    document["registry"]["did:key:z6MkBroken"] = "not an object"
    document["registry"]["did:key:z6MkNameless"] = {"url": "https://x.example"}
    serve(web, settings, SANDBOX_URL, document)
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX]
    report = pipeline.verify(pipeline.VerifyRequest(text=credential_text()))
    assert report.registries is not None
    assert report.registries["listed_in"][0]["name"] == "Example University"


def test_a_registry_on_an_internal_address_is_refused_by_the_safe_fetcher(
    client: Client, web: FakeWeb, settings: Settings, tripwire: Tripwire
) -> None:
    settings.INSIGNIA_ISSUER_REGISTRIES = [
        {"name": "Internal list", "url": f"http://127.0.0.1:{web.port}/registry.json"},
        {"name": "Metadata", "url": "http://169.254.169.254/latest/registry.json"},
    ]
    web.json(
        f"http://127.0.0.1:{web.port}/registry.json",
        with_issuer("sandbox-registry.registry.json", DID, ENTRY),
    )
    page = client.post("/verify", {"text": credential_text()}).content.decode()
    assert 'data-verdict="valid"' in page
    assert "Internal list (its address is on an internal network, which is not fetched)" in page
    assert "Metadata (its address is on an internal network, which is not fetched)" in page
    assert tripwire.connections == []
    assert web.requests == []


def test_a_registry_is_downloaded_once_then_served_from_the_cache(
    web: FakeWeb, settings: Settings
) -> None:
    serve(web, settings, SANDBOX_URL, with_issuer("sandbox-registry.registry.json", DID, ENTRY))
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX]
    for _ in range(3):
        report = pipeline.verify(pipeline.VerifyRequest(text=credential_text()))
        assert report.registries is not None
        assert report.registries["listed_in"][0]["registry"] == "DCC Sandbox Registry"
    assert registry_requests(web, SANDBOX_URL) == 1


def test_a_registry_down_after_its_cache_expired_is_read_from_the_older_copy(
    web: FakeWeb, settings: Settings
) -> None:
    serve(web, settings, SANDBOX_URL, with_issuer("sandbox-registry.registry.json", DID, ENTRY))
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX]
    pipeline.verify(pipeline.VerifyRequest(text=credential_text()))
    # The copy is no longer fresh, and the registry now fails.
    settings.INSIGNIA_REGISTRY_CACHE_SECONDS = 0
    web.add(SANDBOX_URL, Route(status=500, body=b""))
    report = pipeline.verify(pipeline.VerifyRequest(text=credential_text()))
    assert report.verdict is Verdict.VALID
    identity = report.check("issuer_identity")
    assert identity is not None
    assert identity.message == (
        "Listed in: DCC Sandbox Registry. An older saved copy of DCC Sandbox Registry was "
        "used, because it could not be reached."
    )
    assert registry_requests(web, SANDBOX_URL) == 2
    # Past the stale limit, the old copy is not used any more.
    settings.INSIGNIA_REGISTRY_STALE_SECONDS = 0
    report = pipeline.verify(pipeline.VerifyRequest(text=credential_text()))
    assert report.registries is not None
    assert report.registries["listed_in"] == []
    assert report.registries["could_not_check"][0]["code"] == "unreachable"
    # The failure itself was remembered: the registry was not asked again.
    assert registry_requests(web, SANDBOX_URL) == 2


def test_our_own_issuer_is_listed_in_our_own_registry_from_the_database(
    cast: Cast, client: Client, tripwire: Tripwire, settings: Settings
) -> None:
    settings.INSIGNIA_ISSUER_REGISTRIES = [{"name": "Insignia test registry", "url": "own"}]
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    page = client.get("/verify", {"url": given.credential["id"]}).content.decode()
    assert 'data-verdict="valid"' in page
    assert "Listed in: Insignia test registry." in page
    assert tripwire.connections == []
    report = pipeline.verify(pipeline.VerifyRequest(text=given.credential_json))
    assert report.registries is not None
    assert report.registries["listed_in"] == [
        {
            "registry": "Insignia test registry",
            "name": cast.issuer.name_en,
            "location": str(cast.issuer.institution.country.name),
            "url": cast.issuer.url,
        }
    ]


def test_the_default_is_our_own_registry_only(settings: Settings) -> None:
    assert [r.url for r in registries.configured()] == ["own"]


def test_an_issuer_of_another_host_is_not_in_our_own_registry(tripwire: Tripwire) -> None:
    report = pipeline.verify(pipeline.VerifyRequest(text=credential_text()))
    assert report.verdict is Verdict.VALID
    identity = report.check("issuer_identity")
    assert identity is not None
    assert identity.status == "warning"
    assert tripwire.connections == []


def test_a_tampered_credential_is_not_looked_up(web: FakeWeb, settings: Settings) -> None:
    serve(web, settings, SANDBOX_URL, with_issuer("sandbox-registry.registry.json", DID, ENTRY))
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX]
    document = did_key_credential(KEY)
    document["name"] = "Something else"
    report = pipeline.verify(pipeline.VerifyRequest(text=json.dumps(document)))
    assert report.verdict is Verdict.TAMPERED
    identity = report.check("issuer_identity")
    assert identity is not None
    assert identity.status == "skipped"
    assert report.registries is None
    assert registry_requests(web, SANDBOX_URL) == 0


def test_no_registries_configured_means_no_identity_check(settings: Settings) -> None:
    settings.INSIGNIA_ISSUER_REGISTRIES = []
    report = pipeline.verify(pipeline.VerifyRequest(text=credential_text()))
    assert report.verdict is Verdict.VALID
    assert report.check("issuer_identity") is None


def test_a_did_web_issuer_listed_under_its_https_form_is_found() -> None:
    assert registries.identifiers("did:web:university.example:issuers:42") == [
        "did:web:university.example:issuers:42",
        "https://university.example/issuers/42",
    ]
    assert "did:web:university.example:issuers:42" in registries.identifiers(
        "https://university.example/issuers/42"
    )


def test_the_receipt_names_the_registries(client: Client, web: FakeWeb, settings: Settings) -> None:
    serve(web, settings, SANDBOX_URL, with_issuer("sandbox-registry.registry.json", DID, ENTRY))
    settings.INSIGNIA_ISSUER_REGISTRIES = [SANDBOX]
    page = client.post("/verify", {"text": credential_text()}).content.decode()
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/verify/receipts", {"token": token})
    receipt = Receipt.objects.get()
    assert receipt.document["issuer_registries"]["listed_in"][0]["registry"] == (
        "DCC Sandbox Registry"
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-registries="listed"' in page
    assert 'data-registry="DCC Sandbox Registry"' in page
    assert "Listed in a trusted registry." in page


def test_the_command_lists_registries_and_whether_they_answer(
    web: FakeWeb, settings: Settings
) -> None:
    serve(web, settings, SANDBOX_URL, fixture("sandbox-registry.registry.json"))
    settings.INSIGNIA_ISSUER_REGISTRIES = [
        {"name": "Ours", "url": "own"},
        SANDBOX,
        {"name": "Gone", "url": "http://10.1.2.3/registry.json"},
    ]
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 registry could not be read"):
        call_command("issuer_registries", stdout=out)
    text = out.getvalue()
    entries = len(fixture("sandbox-registry.registry.json")["registry"])
    assert "Ours: this platform's own registry" in text
    assert f"DCC Sandbox Registry: {entries} issuers" in text
    assert "Gone: could not be read (blocked)" in text
