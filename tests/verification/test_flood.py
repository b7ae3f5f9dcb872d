"""A verification flood is refused before any work, and a lost cache refuses, never 500s
(research S-19; figures in ``bench/drill_verify_abuse.py``).

Past its limit, a client's next request is answered 429 by the first middleware: a request
the view would have refused as malformed (400/422) gets 429 instead, which shows that
nothing read its body. A signed-in person is still counted by their account in the view.
"""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest
from django.test import Client, override_settings
from pytest_django.fixtures import Settings

import common.ratelimit
from badges.models import Award
from tests.badges.helpers import award, make_published
from tests.base import Cast
from verification import ratelimit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_rate_limit_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limits' clock stands still, so a test's requests never straddle the edge of a
    fixed window (a request landing in the next minute was a flaky pass of the limit)."""
    monkeypatch.setattr(common.ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


@pytest.fixture
def demo(cast: Cast) -> Award:
    return award(cast.awarder, make_published(cast.editor, cast.issuer))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_past_the_limit_the_api_refuses_before_reading_the_body(
    client: Client, demo: Award, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_RATE_LIMIT = 2
    body = {"credential": demo.credential_json}
    answers = [
        client.post("/api/v1/verify", body, content_type="application/json").status_code
        for _ in range(3)
    ]
    malformed = client.post("/api/v1/verify", "{not json", content_type="application/json")

    assert answers == [200, 200, 429]  # the view counts and refuses the third
    assert malformed.status_code == 429  # the middleware: the body was never parsed
    assert malformed.json()["retry_after"] == int(malformed["Retry-After"]) >= 1


def test_past_the_limit_the_page_refuses_in_the_readers_language(
    client: Client, demo: Award, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_RATE_LIMIT = 1
    assert client.post("/verify", {"text": demo.credential_json}).status_code == 200
    assert client.post("/verify", {"text": demo.credential_json}).status_code == 429

    garbage = client.post("/verify", {"text": "{not json"}, HTTP_ACCEPT_LANGUAGE="zh-CN")

    assert garbage.status_code == 429  # the view would have said 422
    assert int(garbage["Retry-After"]) >= 1
    assert "请" in garbage.content.decode()  # the same page, in Chinese


def test_another_client_is_not_refused_by_the_first_ones_flood(
    client: Client, demo: Award, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_RATE_LIMIT = 1
    settings.INSIGNIA_TRUSTED_PROXIES = 1
    body = {"credential": demo.credential_json}

    def post(address: str) -> int:
        response = client.post(
            "/api/v1/verify", body, content_type="application/json", HTTP_X_FORWARDED_FOR=address
        )
        return response.status_code

    assert [post("198.51.100.1") for _ in range(3)] == [200, 429, 429]
    assert post("198.51.100.2") == 200


def test_when_the_cache_is_unreachable_verification_is_refused_not_a_500(
    client: Client, demo: Award
) -> None:
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
    with override_settings(CACHES=unreachable):
        response = client.post(
            "/api/v1/verify", {"credential": demo.credential_json}, content_type="application/json"
        )

    assert response.status_code == 429
    assert response["Retry-After"] == "5"


def test_a_client_cannot_spend_its_whole_minute_in_one_burst(
    client: Client, demo: Award, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_RATE_LIMIT = 40  # a burst of 10 per 10 seconds
    body = {"credential": demo.credential_json}
    answers = [
        client.post("/api/v1/verify", body, content_type="application/json").status_code
        for _ in range(12)
    ]

    assert answers == [200] * 10 + [429] * 2


def test_one_client_runs_at_most_its_share_of_verifications_at_once(settings: Settings) -> None:
    settings.INSIGNIA_VERIFY_MAX_IN_FLIGHT_PER_CLIENT = 2
    with ratelimit.client_slot("203.0.113.5"), ratelimit.client_slot("203.0.113.5"):
        with pytest.raises(ratelimit.Shed), ratelimit.client_slot("203.0.113.5"):
            pass
        with ratelimit.client_slot("198.51.100.7"):  # another client is not held up
            pass
    # Every slot is given back: the first client may run two again.
    with ratelimit.client_slot("203.0.113.5"), ratelimit.client_slot("203.0.113.5"):
        pass
