"""Reading an OpenID provider's configuration (OpenID Connect Discovery 1.0): only over
https (allow-listed test hosts aside), through the safe fetcher, and only when it names the
issuer URL the owner typed, exactly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from signon import oidc
from signon.models import IdentityProvider
from tests.base import Cast
from tests.signon.oidc.helpers import connect
from tests.signon.oidc.op import OpenIDProvider
from tests.verification.servers import FakeWeb

ISSUER = "https://idp.uni.test"
CONFIGURATION = f"{ISSUER}/.well-known/openid-configuration"


def _document(**changes: Any) -> dict[str, Any]:
    document = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/auth",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
        "userinfo_endpoint": f"{ISSUER}/me",
        "response_types_supported": ["code", "id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    document.update(changes)
    return {k: v for k, v in document.items() if v is not None}


@pytest.fixture
def web(settings: Settings) -> Iterator[FakeWeb]:
    server = FakeWeb()
    settings.INSIGNIA_FETCH_ALLOWLIST = {"idp.uni.test": server.address}
    yield server
    server.close()


def test_the_real_providers_configuration_is_read(op: OpenIDProvider) -> None:
    document = oidc.discover(op.issuer)

    assert document["issuer"] == op.issuer
    assert document["token_endpoint"] == f"{op.issuer}/token"
    assert "code" in document["response_types_supported"]


def test_a_configuration_is_read_over_https(web: FakeWeb) -> None:
    web.json(CONFIGURATION, _document())

    assert oidc.discover(ISSUER)["jwks_uri"] == f"{ISSUER}/jwks"


def test_an_issuer_that_is_not_exactly_the_configured_url_is_refused(
    op: OpenIDProvider, web: FakeWeb
) -> None:
    # §4.3: a document at one address claiming to be another provider.
    web.json(CONFIGURATION, _document(issuer="https://idp.elsewhere.test"))
    with pytest.raises(oidc.DiscoveryError, match=r"idp\.elsewhere\.test"):
        oidc.discover(ISSUER)
    # Exactly: not even a trailing slash.
    with pytest.raises(oidc.DiscoveryError, match="issuer"):
        oidc.discover(ISSUER + "/")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"token_endpoint": None}, id="no token endpoint"),
        pytest.param({"jwks_uri": "http://idp.elsewhere.test/jwks"}, id="keys over http"),
        pytest.param({"response_types_supported": ["id_token"]}, id="no code flow"),
        pytest.param({"id_token_signing_alg_values_supported": ["HS256"]}, id="only HS256"),
        pytest.param({"id_token_signing_alg_values_supported": ["none"]}, id="only none"),
    ],
)
def test_a_configuration_the_code_flow_cannot_use_is_refused(
    web: FakeWeb, changes: dict[str, Any]
) -> None:
    web.json(CONFIGURATION, _document(**changes))

    with pytest.raises(oidc.DiscoveryError):
        oidc.discover(ISSUER)


def test_an_issuer_that_is_not_https_is_refused_without_a_request(web: FakeWeb) -> None:
    with pytest.raises(oidc.DiscoveryError, match="https"):
        oidc.discover("http://idp.example.edu")
    assert web.requests == []


def test_a_provider_on_loopback_is_refused_unless_allow_listed(
    op: OpenIDProvider, settings: Settings
) -> None:
    settings.INSIGNIA_FETCH_ALLOWLIST = {}

    for url in (op.issuer, f"https://{op.host}", "https://127.0.0.1", "https://localhost"):
        with pytest.raises(oidc.DiscoveryError):
            oidc.discover(url)


def test_a_huge_configuration_is_refused(web: FakeWeb) -> None:
    web.json(CONFIGURATION, _document(padding="x" * (oidc.DOCUMENT_MAX_BYTES + 1)))

    with pytest.raises(oidc.DiscoveryError):
        oidc.discover(ISSUER)


@pytest.mark.django_db
def test_a_day_old_configuration_is_read_again(cast: Cast, op: OpenIDProvider) -> None:
    provider = connect(op, cast.institution)
    IdentityProvider.objects.filter(pk=provider.pk).update(
        oidc_discovery={**provider.oidc_discovery, "token_endpoint": f"{op.issuer}/old"},
        oidc_discovered_at=timezone.now() - timedelta(hours=25),
    )
    provider.refresh_from_db()

    document = oidc.refresh_if_stale(provider)

    provider.refresh_from_db()
    assert document["token_endpoint"] == f"{op.issuer}/token"
    assert provider.oidc_discovery["token_endpoint"] == f"{op.issuer}/token"
    assert provider.oidc_discovered_at is not None
    assert timezone.now() - provider.oidc_discovered_at < timedelta(minutes=1)


@pytest.mark.django_db
def test_a_recent_configuration_is_not_read_again(cast: Cast, web: FakeWeb) -> None:
    provider = IdentityProvider.objects.create(
        institution=cast.institution,
        protocol="oidc",
        oidc_issuer=ISSUER,
        oidc_discovery=_document(),
        oidc_discovered_at=timezone.now() - timedelta(hours=23),
    )

    assert oidc.refresh_if_stale(provider)["token_endpoint"] == f"{ISSUER}/token"
    assert web.requests == []


@pytest.mark.django_db
def test_an_unreachable_provider_keeps_its_last_configuration(cast: Cast, web: FakeWeb) -> None:
    provider = IdentityProvider.objects.create(
        institution=cast.institution,
        protocol="oidc",
        oidc_issuer=ISSUER,
        oidc_discovery=_document(),
        oidc_discovered_at=timezone.now() - timedelta(days=3),
    )

    document = oidc.refresh_if_stale(provider)  # 404 at the well-known address

    assert document["token_endpoint"] == f"{ISSUER}/token"
    provider.oidc_discovery = {}
    with pytest.raises(oidc.DiscoveryError):
        oidc.refresh_if_stale(provider)
