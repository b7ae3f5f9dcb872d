"""did:web identifiers from base URLs, and DID URL -> document URL."""

from __future__ import annotations

import pytest

from openbadges import didweb
from tests.openbadges.helpers import load_fixture


def test_it_percent_encodes_the_port() -> None:
    did = didweb.did_web("http://127.0.0.1:8000", "issuers", "acme")
    assert did == "did:web:127.0.0.1%3A8000:issuers:acme"


def test_it_keeps_a_base_path_and_lowercases_the_host() -> None:
    assert (
        didweb.did_web("https://Badges.Example.edu/insignia/", "issuers", "acme")
        == "did:web:badges.example.edu:insignia:issuers:acme"
    )


def test_it_encodes_colons_inside_a_segment() -> None:
    assert didweb.did_web("https://x.org", "a:b") == "did:web:x.org:a%3Ab"


@pytest.mark.parametrize(
    "base_url",
    ["ftp://x.org", "https://x.org/?q=1", "https://user:pw@x.org", "https://[::1]:8000", "x.org"],
)
def test_it_refuses_base_urls_did_web_cannot_express(base_url: str) -> None:
    with pytest.raises(didweb.DidWebError):
        didweb.did_web(base_url, "issuers", "acme")


def test_it_maps_a_did_url_to_its_document_url() -> None:
    assert (
        didweb.did_web_document_url("did:web:127.0.0.1%3A8000:issuers:acme#key-1", scheme="http")
        == "http://127.0.0.1:8000/issuers/acme/did.json"
    )
    assert (
        didweb.did_web_document_url("did:web:badges.example.edu")
        == "https://badges.example.edu/.well-known/did.json"
    )


def test_did_web_and_document_url_agree() -> None:
    did = didweb.did_web("https://badges.example.edu:8443", "issuers", "acme")
    assert (
        didweb.did_web_document_url(did) == "https://badges.example.edu:8443/issuers/acme/did.json"
    )


def test_the_did_document_lists_current_and_retired_keys_with_absolute_ids() -> None:
    public = bytes.fromhex(load_fixture("test-key.json")["publicKeyHex"])
    did = "did:web:badges.example.edu:issuers:acme"
    document = didweb.did_document(
        did,
        [
            didweb.VerificationKey("key-2", public),
            didweb.VerificationKey("key-1", public),
            didweb.VerificationKey("key-0", public, assertion=False),
        ],
    )
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert [m["id"] for m in document["verificationMethod"]] == [
        f"{did}#key-2",
        f"{did}#key-1",
        f"{did}#key-0",
    ]
    assert {m["controller"] for m in document["verificationMethod"]} == {did}
    assert {m["type"] for m in document["verificationMethod"]} == {"Multikey"}
    assert document["assertionMethod"] == [f"{did}#key-2", f"{did}#key-1"]
