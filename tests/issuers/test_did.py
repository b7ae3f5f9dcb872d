"""The issuer's public identity: did:web, its DID document and the profile page."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

from issuers import keys, services
from tests.badges.helpers import award, make_published
from tests.base import Cast

pytestmark = pytest.mark.django_db

BASE = "https://badges.poly.example:8443"
DID = "did:web:badges.poly.example%3A8443:issuers:poly-engineering"


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_the_issuer_did_comes_from_the_base_url_with_the_port_percent_encoded(cast: Cast) -> None:
    assert keys.issuer_did(cast.issuer) == DID
    with override_settings(INSIGNIA_BASE_URL="https://badges.poly.example"):
        assert (
            keys.issuer_did(cast.issuer) == "did:web:badges.poly.example:issuers:poly-engineering"
        )


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_the_did_document_lists_active_and_retired_keys_with_absolute_ids(
    client: Client, cast: Cast
) -> None:
    services.active_key(cast.issuer)
    services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)

    response = client.get("/issuers/poly-engineering/did.json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Access-Control-Allow-Origin"] == "*"
    document = response.json()
    assert document["id"] == DID
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    # each key twice: a Multikey (Data Integrity) and a JsonWebKey (the kid of VC-JWTs)
    assert document["assertionMethod"] == [
        f"{DID}#key-1",
        f"{DID}#key-2",
        f"{DID}#key-1-jwk",
        f"{DID}#key-2-jwk",
    ]
    multikeys = [m for m in document["verificationMethod"] if m["type"] == "Multikey"]
    assert len(multikeys) == 2
    for method in multikeys:
        assert method["controller"] == DID
        assert method["id"].startswith(DID + "#key-")
        assert method["publicKeyMultibase"].startswith("z6Mk")
    for method in document["verificationMethod"][2:]:
        assert method["type"] == "JsonWebKey" and method["controller"] == DID
        assert set(method["publicKeyJwk"]) == {"kty", "crv", "x"}


def test_a_withdrawn_key_leaves_the_did_document(client: Client, cast: Cast) -> None:
    first = services.active_key(cast.issuer)
    services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)
    services.withdraw_signing_key(actor=cast.owner, key=first)
    document = client.get("/issuers/poly-engineering/did.json").json()
    assert [m["id"].rsplit("#", 1)[1] for m in document["verificationMethod"]] == [
        "key-2",
        "key-2-jwk",
    ]
    assert first.public_key_multibase not in json.dumps(document)


def test_an_issuer_without_keys_has_a_document_without_methods(client: Client, cast: Cast) -> None:
    document = client.get("/issuers/poly-engineering/did.json").json()
    assert document["verificationMethod"] == []
    assert "assertionMethod" not in document


def test_an_unknown_issuer_is_not_found(client: Client, cast: Cast) -> None:
    assert client.get("/issuers/nobody/did.json").status_code == 404
    assert client.get("/issuers/nobody").status_code == 404


@override_settings(INSIGNIA_BASE_URL=BASE)
@pytest.mark.parametrize("accept", ["application/ld+json", "application/json"])
def test_machines_get_the_issuer_profile_as_json_ld(
    client: Client, cast: Cast, accept: str
) -> None:
    response = client.get("/issuers/poly-engineering", HTTP_ACCEPT=accept)
    assert response["Content-Type"] == f"{accept}; charset=utf-8"
    profile = response.json()
    assert profile["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert profile["id"] == DID
    assert profile["type"] == ["Profile"]
    assert profile["name"] == "Poly Engineering"
    assert profile["email"] == "badges@poly-engineering.example"


def test_the_profile_json_follows_the_readers_language(client: Client, cast: Cast) -> None:
    response = client.get(
        "/issuers/poly-engineering", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    assert response.json()["name"] == "测试颁发单位"


def test_people_get_the_profile_page_with_published_micro_credentials(
    client: Client, cast: Cast
) -> None:
    make_published(cast.editor, cast.issuer)
    response = client.get(
        "/issuers/poly-engineering", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8"
    )
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert "Poly Engineering" in body
    assert "Data Literacy" in body
    assert ":issuers:poly-engineering" in body
    assert "/issuers/poly-engineering/did.json" in body


def test_the_credential_issuer_is_the_same_did_the_document_serves(
    client: Client, cast: Cast
) -> None:
    issued = award(cast.awarder, make_published(cast.editor, cast.issuer))
    document = client.get("/issuers/poly-engineering/did.json").json()
    assert issued.credential["issuer"]["id"] == document["id"]
    assert issued.credential["proof"][0]["verificationMethod"] in document["assertionMethod"]
