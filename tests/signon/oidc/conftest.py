"""One real OpenID provider (panva's ``oidc-provider``, tests/idp/oidc) for the whole session,
stopped when the session ends; each test lets the safe fetcher reach it."""

from __future__ import annotations

import atexit
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from pytest_django.fixtures import Settings

from tests.signon.oidc.op import OpenIDProvider, start_provider


@pytest.fixture(scope="session")
def openid_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIDProvider]:
    provider = start_provider(tmp_path_factory.mktemp("oidc") / "provider.log")
    atexit.register(provider.stop)  # also when the session is interrupted
    yield provider
    provider.stop()


@pytest.fixture
def op(openid_provider: OpenIDProvider, settings: Settings) -> OpenIDProvider:
    """The provider, reachable through the fetcher (loopback, allow-listed as a test host)."""
    settings.INSIGNIA_FETCH_ALLOWLIST = {openid_provider.host: openid_provider.host}
    cache.clear()  # no keys cached from another test
    return openid_provider
