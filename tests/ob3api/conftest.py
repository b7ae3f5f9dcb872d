"""Fixtures of the Open Badges API tests: the live server as the platform's public origin, a
learner with badges, and a loopback stand-in for another issuer's website."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from openbadges import baking
from tests.ob3api.helpers import Spec
from tests.verification.servers import FakeWeb

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SIMPLE = FIXTURES / "1edtech-validator" / "ob30" / "simple.json"
BAKED = FIXTURES / "baked" / "simple-json.png"


@pytest.fixture
def base(live_server: LiveServer, settings: SettingsWrapper, transactional_db: None) -> str:
    """The live server's origin, which the platform then uses in every URL it issues."""
    settings.INSIGNIA_BASE_URL = live_server.url
    cache.clear()
    return str(live_server.url)


@pytest.fixture
def spec(base: str) -> Spec:
    return Spec(base)


def simple_credential() -> dict[str, Any]:
    """1EdTech's own signed example credential (the validator's ``simple.json``)."""
    document: dict[str, Any] = json.loads(SIMPLE.read_text(encoding="utf-8"))
    return document


def baked_credential() -> dict[str, Any]:
    """The credential inside 1EdTech's baked example image (``simple-json.png``)."""
    found = baking.extract(BAKED.read_bytes())
    assert found is not None
    document: dict[str, Any] = json.loads(found.payload)
    return document


@pytest.fixture
def example_issuer(settings: SettingsWrapper) -> Iterator[FakeWeb]:
    """1EdTech's example issuer (example.com), served from a loopback server: its profile
    lists the keys that signed ``simple.json`` and the baked example image."""
    server = FakeWeb()
    examples = (simple_credential(), baked_credential())
    keys = [c["proof"][0]["verificationMethod"] for c in examples]
    for issuer in {c["issuer"]["id"] for c in examples}:
        server.json(issuer, {"id": issuer, "type": ["Profile"], "assertionMethod": keys})
    settings.INSIGNIA_FETCH_ALLOWLIST = {"example.com": server.address}
    yield server
    server.close()
