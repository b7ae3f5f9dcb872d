"""OpenID Federation registries (``"type": "oidf"``), the signed kind DCC moved its member
registry to: entity statements signed by DCC's test registry, as its registry client's tests
record them (``tests/fixtures/dcc-registry/oidf``), served from a loopback server.

The statements expired in April 2025, so each verification here is run as of a moment when
they were current (``pipeline.verify(now=…)``), and once as of now, when they are refused.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytest_django.fixtures import Settings

from tests.verification import helpers
from tests.verification.conftest import allow
from tests.verification.servers import FakeWeb, Route
from verification import pipeline
from verification.report import Report, Verdict

pytestmark = pytest.mark.django_db

OIDF = Path(__file__).resolve().parent.parent / "fixtures" / "dcc-registry" / "oidf"
ANCHOR = "https://test.registry.dcconsortium.org"
EC_URL = f"{ANCHOR}/.well-known/openid-federation"
DID = "did:web:oneuni.testuni.edu"
# 2025-04-25 16:53 UTC: before the fetched statements' expiry (2025-04-26) and the anchor's.
WHEN = datetime.fromtimestamp(1745600000, tz=UTC)
REGISTRY = {"name": "DCC Member Registry (test)", "type": "oidf", "trustAnchorEC": EC_URL}
KEY = Ed25519PrivateKey.generate()


def statement(name: str) -> bytes:
    return (OIDF / name).read_bytes().strip()


def fetch_url(did: str) -> str:
    return f"{ANCHOR}/fetch?{urlencode({'sub': did})}"


@pytest.fixture
def registry(web: FakeWeb, settings: Settings) -> FakeWeb:
    """DCC's test registry and the OneUni issuer's did:web, on loopback."""
    jwt_type = "application/entity-statement+jwt"
    web.add(
        EC_URL,
        Route(body=statement("test-registry-entity-configuration.jwt"), content_type=jwt_type),
    )
    web.add(fetch_url(DID), Route(body=statement("fetch-oneuni.jwt"), content_type=jwt_type))
    web.json("https://oneuni.testuni.edu/.well-known/did.json", helpers.did_document(DID, KEY))
    allow(settings, web, "test.registry.dcconsortium.org", "oneuni.testuni.edu")
    settings.INSIGNIA_ISSUER_REGISTRIES = [REGISTRY]
    return web


def verify(now: datetime = WHEN) -> Report:
    credential = helpers.sign(helpers.unsigned(DID), KEY, f"{DID}#key-1")
    return pipeline.verify(pipeline.VerifyRequest(text=json.dumps(credential)), now=now)


def test_a_did_the_signed_registry_lists_is_listed_in_it(registry: FakeWeb) -> None:
    report = verify()
    assert report.verdict is Verdict.VALID, report.as_json()
    identity = report.check("issuer_identity")
    assert identity is not None
    assert identity.message == "Listed in: DCC Member Registry (test)."
    assert report.registries is not None
    listing = report.registries["listed_in"][0]
    assert listing["name"] == "OneUni University"
    assert listing["url"] == "https://oneuni.edu"


def test_a_did_the_registry_answers_404_for_is_not_listed(registry: FakeWeb) -> None:
    # No route for the subordinate statement: the fetch endpoint answers 404.
    registry.routes.pop(("test.registry.dcconsortium.org", "/fetch?" + urlencode({"sub": DID})))
    report = verify()
    assert report.verdict is Verdict.VALID
    identity = report.check("issuer_identity")
    assert identity is not None
    assert identity.status == "warning"
    assert identity.message.startswith("Not listed in any trusted registry.")


def test_a_statement_changed_after_signing_is_refused(registry: FakeWeb) -> None:
    header, payload, signature = statement("fetch-oneuni.jwt").split(b".")
    claims = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    claims["metadata"]["federation_entity"]["organization_name"] = "Not OneUni"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    registry.add(fetch_url(DID), Route(body=b".".join([header, forged, signature])))
    report = verify()
    assert report.verdict is Verdict.VALID
    identity = report.check("issuer_identity")
    assert identity is not None
    assert identity.status == "warning"
    assert "DCC Member Registry (test) (its signature does not check out)" in identity.message
    assert report.registries is not None
    assert report.registries["listed_in"] == []


def test_a_statement_about_another_did_is_not_taken_for_this_one(registry: FakeWeb) -> None:
    registry.add(fetch_url(DID), Route(body=statement("fetch-twotr.jwt")))
    report = verify()
    assert report.registries is not None
    assert report.registries["listed_in"] == []
    assert report.registries["could_not_check"][0]["code"] == "bad_signature"


def test_expired_statements_are_not_trusted(registry: FakeWeb) -> None:
    report = verify(now=datetime.now(tz=UTC))
    assert report.verdict is Verdict.VALID
    assert report.registries is not None
    assert report.registries["listed_in"] == []
    assert report.registries["could_not_check"] == [
        {"registry": "DCC Member Registry (test)", "code": "expired"}
    ]
