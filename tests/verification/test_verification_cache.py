"""Key documents and status lists of other issuers, kept for as long as they allow (issue 19).

Counted on the loopback server: what a second verification of the same issuer fetches again,
and what it must not reuse (a list that failed its own signature check, ``no-store``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytest_django.fixtures import Settings

from openbadges import statuslist
from tests.verification import helpers
from tests.verification.conftest import allow
from tests.verification.servers import FakeWeb, Route
from verification import cache as vcache
from verification import pipeline
from verification.report import Verdict

pytestmark = pytest.mark.django_db

DID = "did:web:college.example"
DID_PATH = ("college.example", "/.well-known/did.json")
KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
LIST_URL = "https://college.example/status/3"
LIST_PATH = ("college.example", "/status/3")


def _list(
    bits: bytes | None = None, *, key: Ed25519PrivateKey = KEY, ttl: int | None = None
) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "id": f"{LIST_URL}#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": statuslist.encode(bits or statuslist.new_bitstring()),
    }
    if ttl is not None:
        subject["ttl"] = ttl
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": DID,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": subject,
    }
    return helpers.sign(document, key, f"{DID}#key-1")


def _credential(index: int, *, status: bool = True) -> str:
    changes: dict[str, Any] = {}
    if status:
        changes["credentialStatus"] = {
            "id": f"{LIST_URL}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": LIST_URL,
        }
    unsigned = helpers.unsigned(DID, **changes)
    unsigned["id"] = f"https://college.example/credentials/{index}"
    return json.dumps(helpers.sign(unsigned, KEY, f"{DID}#key-1"))


@pytest.fixture
def college(web: FakeWeb, settings: Settings) -> FakeWeb:
    web.json(f"https://{DID_PATH[0]}{DID_PATH[1]}", helpers.did_document(DID, KEY))
    allow(settings, web, "college.example")
    return web


def _verdict(text: str) -> Verdict:
    return pipeline.verify(pipeline.VerifyRequest(text=text)).verdict


def test_the_issuers_did_document_is_fetched_once_for_many_credentials(college: FakeWeb) -> None:
    verdicts = [_verdict(_credential(i, status=False)) for i in range(5)]
    assert verdicts == [Verdict.VALID] * 5
    assert college.requests.count(DID_PATH) == 1


def test_a_did_document_served_with_no_store_is_fetched_every_time(college: FakeWeb) -> None:
    body = json.dumps(helpers.did_document(DID, KEY)).encode()
    college.add(
        f"https://{DID_PATH[0]}{DID_PATH[1]}",
        Route(body=body, headers={"Cache-Control": "no-store"}),
    )
    assert [_verdict(_credential(i, status=False)) for i in range(3)] == [Verdict.VALID] * 3
    assert college.requests.count(DID_PATH) == 3


def test_a_missing_did_document_is_not_asked_for_again_at_once(college: FakeWeb) -> None:
    college.add(f"https://{DID_PATH[0]}{DID_PATH[1]}", Route(404))
    assert [_verdict(_credential(i, status=False)) for i in range(3)] == [Verdict.UNKNOWN] * 3
    assert college.requests.count(DID_PATH) == 1


def test_a_status_list_with_a_ttl_is_fetched_and_checked_once(college: FakeWeb) -> None:
    bits = statuslist.new_bitstring()
    bits[0] = 0x80  # index 0 revoked
    college.json(LIST_URL, _list(bytes(bits), ttl=60_000))
    verdicts = [_verdict(_credential(i)) for i in (0, 1, 2, 0)]
    assert verdicts == [Verdict.REVOKED, Verdict.VALID, Verdict.VALID, Verdict.REVOKED]
    assert college.requests.count(LIST_PATH) == 1


def test_a_status_list_without_ttl_or_max_age_is_fetched_every_time(college: FakeWeb) -> None:
    college.json(LIST_URL, _list())
    assert [_verdict(_credential(i)) for i in range(3)] == [Verdict.VALID] * 3
    assert college.requests.count(LIST_PATH) == 3


def test_a_list_that_fails_its_signature_check_is_never_kept(college: FakeWeb) -> None:
    college.json(LIST_URL, _list(key=OTHER_KEY, ttl=60_000))  # names the issuer, wrong key
    assert _verdict(_credential(0)) is Verdict.UNKNOWN
    bits = statuslist.new_bitstring()
    bits[0] = 0x80
    college.json(LIST_URL, _list(bytes(bits), ttl=60_000))
    # Fetched and checked again: the revocation shows.
    assert _verdict(_credential(0)) is Verdict.REVOKED
    assert college.requests.count(LIST_PATH) == 2


def test_a_kept_list_serves_only_its_own_issuers_credentials(college: FakeWeb) -> None:
    college.json(LIST_URL, _list(ttl=60_000))
    assert _verdict(_credential(0)) is Verdict.VALID
    entry = {
        "id": f"{LIST_URL}#0",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "0",
        "statusListCredential": LIST_URL,
    }
    # Another issuer's credential pointing at the list kept for the college.
    other = helpers.did_key_credential(credentialStatus=entry)
    report = pipeline.verify(pipeline.VerifyRequest(text=json.dumps(other)))
    status = report.check("status")
    assert status is not None and status.code == "STATUS_VERIFICATION_ERROR"


def test_lifetimes_follow_ttl_and_cache_control() -> None:
    assert vcache.status_seconds({}, None) == 0
    assert vcache.status_seconds({}, 60_000) == 60
    assert vcache.status_seconds({"cache-control": "public, max-age=30"}, 60_000) == 30
    assert vcache.status_seconds({"cache-control": "max-age=86400"}, None) == 300
    assert vcache.status_seconds({"cache-control": "no-store"}, 60_000) == 0
    assert vcache.key_seconds({}) == vcache.KEY_DEFAULT_SECONDS
    assert vcache.key_seconds({"cache-control": "no-cache"}) == 0
    assert vcache.key_seconds({"cache-control": "max-age=999999"}) == vcache.KEY_MAX_SECONDS
    assert vcache.status_seconds({}, True) == 0  # not a number of milliseconds
