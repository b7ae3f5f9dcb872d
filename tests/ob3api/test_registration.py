"""Dynamic client registration (RFC 7591, as OB 3.0 §6.2 profiles it): a wallet registers
itself with the metadata the spec requires; anything else is refused with the RFC's errors, and
one address cannot register clients without end."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from oauth2_provider.models import Application

from integrations.models import ApiClient
from integrations.oauth import scopes
from ob3api import api
from tests.ob3api.helpers import ALL_SCOPES, REDIRECT_URI, WALLET_HOST, registration_request

pytestmark = pytest.mark.usefixtures("transactional_db")


def _register(base: str, body: Any) -> requests.Response:
    return requests.post(f"{base}/ims/ob/v3p0/register", json=body, timeout=10)


def test_a_wallet_registers_and_gets_a_secret_shown_once(base: str) -> None:
    answer = _register(base, registration_request(scope=f"{ALL_SCOPES} offline_access"))
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["client_secret_expires_at"] == 0
    assert isinstance(body["client_id_issued_at"], int)
    assert body["redirect_uris"] == [REDIRECT_URI]
    assert body["scope"] == ALL_SCOPES  # offline_access is not a scope here
    assert body["software_id"] == "pocket-wallet"
    assert body["tos_uri"] == f"{WALLET_HOST}/terms"

    client = ApiClient.objects.select_related("application").get()
    assert client.kind == ApiClient.Kind.WALLET
    assert client.institution is None
    assert client.application.client_id == body["client_id"]
    assert client.scope_set == set(scopes.WALLET_SCOPES)
    assert client.metadata["policy_uri"] == f"{WALLET_HOST}/privacy"
    assert client.application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert not Application.objects.filter(client_secret=body["client_secret"]).exists()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://wallet.example/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://elsewhere.example/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": [f"{WALLET_HOST}/callback#fragment"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"client_name": ""}, "invalid_client_metadata"),
        ({"software_version": None}, "invalid_client_metadata"),
        ({"policy_uri": "https://other.example/privacy"}, "invalid_client_metadata"),
        ({"logo_uri": "ftp://127.0.0.1/logo.png"}, "invalid_client_metadata"),
        ({"scope": "awards:write"}, "invalid_client_metadata"),
        ({"scope": ""}, "invalid_client_metadata"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        ({"grant_types": ["authorization_code", "implicit"]}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
    ],
)
def test_metadata_the_spec_does_not_allow_is_refused(
    base: str, changes: dict[str, Any], error: str
) -> None:
    body = registration_request(**changes)
    answer = _register(base, {k: v for k, v in body.items() if v is not None})
    assert answer.status_code == 400
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]
    assert not ApiClient.objects.exists()


def test_a_body_that_is_not_a_json_object_is_refused(base: str) -> None:
    for body in (b"not json", b"[1, 2]"):
        answer = requests.post(
            f"{base}/ims/ob/v3p0/register",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_client_metadata"


def test_a_public_wallet_gets_no_secret(base: str) -> None:
    answer = _register(base, registration_request(token_endpoint_auth_method="none"))
    assert answer.status_code == 201
    assert "client_secret" not in answer.json()
    assert ApiClient.objects.get().application.client_type == Application.CLIENT_PUBLIC


def test_one_address_cannot_register_without_end(base: str) -> None:
    for _ in range(api.REGISTRATIONS_PER_HOUR):
        assert _register(base, registration_request()).status_code == 201
    refused = _register(base, registration_request())
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert ApiClient.objects.count() == api.REGISTRATIONS_PER_HOUR
