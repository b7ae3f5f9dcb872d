"""Fixtures of the verifier tests: a fake web on loopback and a socket tripwire."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.verification.servers import FakeWeb
from verification import cache as vcache
from verification import fetcher


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    cache.clear()
    vcache.clear_local()


@pytest.fixture
def web(settings: SettingsWrapper) -> Iterator[FakeWeb]:
    """A loopback server; call ``allow(host)`` to let the fetcher reach it as that host."""
    server = FakeWeb()
    settings.INSIGNIA_FETCH_ALLOWLIST = {}
    yield server
    server.close()


def allow(settings: SettingsWrapper, web: FakeWeb, *hosts: str) -> None:
    settings.INSIGNIA_FETCH_ALLOWLIST = {
        **settings.INSIGNIA_FETCH_ALLOWLIST,
        **dict.fromkeys(hosts, web.address),
    }


class Tripwire:
    """Records every outbound ``connect`` the fetcher makes (and refuses non-loopback ones)."""

    def __init__(self) -> None:
        self.connections: list[tuple[str, int]] = []


@pytest.fixture
def tripwire(monkeypatch: pytest.MonkeyPatch) -> Tripwire:
    wire = Tripwire()
    real = fetcher.open_connection

    def guarded(address: str, port: int, timeout: float) -> socket.socket:
        wire.connections.append((address, port))
        if address not in ("127.0.0.1", "::1"):
            raise OSError("tripwire: the test network is loopback only")
        return real(address, port, timeout)

    monkeypatch.setattr(fetcher, "open_connection", guarded)
    return wire
