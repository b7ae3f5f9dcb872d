"""Fixtures of the webhook tests: a receiver on loopback that the safe fetcher reaches as
``hooks.test`` (``INSIGNIA_FETCH_ALLOWLIST``), and an endpoint of the cast's institution."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.base import Cast
from tests.webhooks.receiver import Receiver
from webhooks import services
from webhooks.models import Endpoint

HOOK_URL = "https://hooks.test/insignia/events"


@pytest.fixture
def receiver(settings: SettingsWrapper) -> Iterator[Receiver]:
    found = Receiver()
    found.start()
    settings.INSIGNIA_FETCH_ALLOWLIST = {"hooks.test": found.address}
    yield found
    found.stop()


@pytest.fixture
def endpoint(cast: Cast, receiver: Receiver) -> Endpoint:
    made = services.create_endpoint(actor=cast.owner, institution=cast.institution, url=HOOK_URL)
    receiver.secrets = [made.secret]
    return made
