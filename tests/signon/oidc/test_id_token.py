"""ID tokens that must not sign anyone in (OpenID Connect Core §3.1.3.7). The provider is the
real one; a proxy in front of its token endpoint swaps the ID token it answers for one the
test made, usually signed with the provider's own key so that only one thing is wrong."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from pytest_django.fixtures import Settings

from accounts.models import User
from earners.models import InstitutionalIdentity
from signon.models import ExternalAccount, IdentityProvider
from tests.base import Cast
from tests.signon.oidc.helpers import connect, sign_in
from tests.signon.oidc.op import ForgingProxy, OpenIDProvider, now, resign

pytestmark = pytest.mark.django_db

Forge = Callable[[OpenIDProvider, IdentityProvider, str], str]


@pytest.fixture
def forged(
    cast: Cast, op: OpenIDProvider, settings: Settings
) -> Iterator[Callable[[Forge], tuple[Any, Client]]]:
    """Sign ``learner1`` in with the ID token ``forge`` makes of the real one; the callback's
    response and the browser."""
    proxies: list[ForgingProxy] = []

    def run(forge: Forge) -> tuple[Any, Client]:
        provider = connect(op, cast.institution)

        def swap(path: str, answer: dict[str, Any]) -> dict[str, Any]:
            if path.startswith("/token"):
                answer["id_token"] = forge(op, provider, answer["id_token"])
            return answer

        proxy = ForgingProxy(op.issuer, swap).start()
        proxies.append(proxy)
        settings.INSIGNIA_FETCH_ALLOWLIST = {op.host: op.host, proxy.address: proxy.address}
        provider.oidc_discovery["token_endpoint"] = f"http://{proxy.address}/token"
        provider.save()
        browser = Client()
        return sign_in(browser, cast.institution, "learner1"), browser

    yield run
    for proxy in proxies:
        proxy.close()


def _refused(response: Any, browser: Client) -> None:
    """Refused with a page, nobody signed in, nothing created."""
    assert response.status_code == 403
    assert "could not be checked, so you were not signed in" in response.content.decode()
    assert SESSION_KEY not in browser.session
    assert not User.objects.filter(email="learner1@uni.test").exists()
    assert not ExternalAccount.objects.exists()
    assert not InstitutionalIdentity.objects.exists()


def _segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _claims(id_token: str) -> dict[str, Any]:
    payload = id_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_the_proxy_alone_changes_nothing(forged: Callable[[Forge], tuple[Any, Client]]) -> None:
    response, browser = forged(lambda op, provider, token: token)

    assert response["Location"] == reverse("earners:backpack")
    assert SESSION_KEY in browser.session


def test_an_unsigned_id_token_is_refused(forged: Callable[[Forge], tuple[Any, Client]]) -> None:
    def unsigned(op: OpenIDProvider, provider: IdentityProvider, token: str) -> str:
        return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{token.split('.')[1]}."

    _refused(*forged(unsigned))


def test_an_id_token_signed_with_the_client_secret_is_refused(
    forged: Callable[[Forge], tuple[Any, Client]],
) -> None:
    def hs256(op: OpenIDProvider, provider: IdentityProvider, token: str) -> str:
        secret = OctKey.import_key(provider.oidc_client_secret.encode())
        return jwt.encode({"alg": "HS256"}, _claims(token), secret, algorithms=["HS256"])

    _refused(*forged(hs256))


@pytest.mark.parametrize("kid", ["rsa-1", "someone-elses-key"])
def test_an_id_token_signed_by_another_key_is_refused(
    forged: Callable[[Forge], tuple[Any, Client]], kid: str
) -> None:
    stranger = RSAKey.generate_key(2048)

    def other_key(op: OpenIDProvider, provider: IdentityProvider, token: str) -> str:
        return resign(token, stranger, header={"kid": kid})

    _refused(*forged(other_key))


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": "another-client"}, id="wrong audience"),
        pytest.param({"aud": None}, id="no audience"),
        pytest.param({"iss": "https://idp.elsewhere.example"}, id="another issuer"),
        pytest.param({"iss": None}, id="no issuer"),
        pytest.param({"exp": -600, "iat": -1200}, id="expired"),
        pytest.param({"iat": 3600, "exp": 7200}, id="issued in the future"),
        pytest.param({"nonce": "not-the-nonce"}, id="wrong nonce"),
        pytest.param({"nonce": None}, id="no nonce"),
        pytest.param({"sub": None}, id="no subject"),
        pytest.param({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, id="access token hash"),
    ],
)
def test_an_id_token_with_a_wrong_claim_is_refused(
    forged: Callable[[Forge], tuple[Any, Client]], changes: dict[str, Any]
) -> None:
    def change(op: OpenIDProvider, provider: IdentityProvider, token: str) -> str:
        times = {k: now() + v for k, v in changes.items() if k in ("exp", "iat")}
        return resign(token, op.rsa_key, **{**changes, **times})

    _refused(*forged(change))


def test_an_id_token_for_several_audiences_needs_us_as_the_authorised_party(
    forged: Callable[[Forge], tuple[Any, Client]],
) -> None:
    def shared(op: OpenIDProvider, provider: IdentityProvider, token: str) -> str:
        return resign(token, op.rsa_key, aud=[provider.oidc_client_id, "another-client"])

    _refused(*forged(shared))


def test_an_id_token_for_several_audiences_naming_us_as_azp_is_believed(
    forged: Callable[[Forge], tuple[Any, Client]],
) -> None:
    def shared(op: OpenIDProvider, provider: IdentityProvider, token: str) -> str:
        audience = [provider.oidc_client_id, "another-client"]
        return resign(token, op.rsa_key, aud=audience, azp=provider.oidc_client_id)

    response, browser = forged(shared)

    assert response["Location"] == reverse("earners:backpack")
    assert SESSION_KEY in browser.session


def test_userinfo_about_someone_else_is_refused(
    cast: Cast, op: OpenIDProvider, settings: Settings
) -> None:
    provider = connect(op, cast.institution)

    def other_person(path: str, answer: dict[str, Any]) -> dict[str, Any]:
        return {**answer, "sub": "staff1"} if path.startswith("/me") else answer

    proxy = ForgingProxy(op.issuer, other_person).start()
    try:
        settings.INSIGNIA_FETCH_ALLOWLIST = {op.host: op.host, proxy.address: proxy.address}
        provider.oidc_discovery["userinfo_endpoint"] = f"http://{proxy.address}/me"
        provider.save()
        browser = Client()
        _refused(sign_in(browser, cast.institution, "learner1"), browser)
    finally:
        proxy.close()
