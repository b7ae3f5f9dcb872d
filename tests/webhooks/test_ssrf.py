"""A webhook never reaches an internal address: such a URL is refused when it is saved, and
a delivery to a name that has been pointed at one fails without connecting."""

from __future__ import annotations

import socket

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests.badges.helpers import award, make_published
from tests.base import CaptureCallbacks, Cast
from tests.webhooks.receiver import Receiver
from verification import fetcher
from webhooks import services
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.webhooks.urls")]

INTERNAL = [
    "http://127.0.0.1/hook",
    "http://localhost/hook",  # a name that resolves to loopback
    "http://10.0.0.8/hook",
    "http://192.168.1.20/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "https://hooks.example:8443/hook",  # ports other than 80 and 443
    "https://user:secret@hooks.example/hook",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_url_is_refused_when_saved(cast: Cast, url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        services.create_endpoint(actor=cast.owner, institution=cast.institution, url=url)
    assert "url" in refused.value.message_dict
    assert not Endpoint.objects.exists()


def test_the_console_says_why_an_internal_url_is_refused(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    url = reverse("manage:webhook_create", args=[cast.institution.slug])
    response = client.post(url, {"url": "http://169.254.169.254/latest/meta-data/"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Webhooks are sent only to public addresses" in page
    assert "169.254.169.254" in page
    assert not Endpoint.objects.exists()


def test_a_changed_url_for_an_internal_address_is_refused_too(
    cast: Cast, endpoint: Endpoint
) -> None:
    with pytest.raises(ValidationError):
        services.update_endpoint(
            actor=cast.owner,
            endpoint=endpoint,
            url="http://localhost/hook",
            description="",
            event_types=[],
            issuers=[],
        )
    endpoint.refresh_from_db()
    assert endpoint.url.startswith("https://hooks.test/")


def test_a_delivery_to_a_name_now_pointing_inside_fails_without_connecting(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    # Saved while it was public; its host has since been pointed at loopback (here: a row
    # written before the rules existed, or DNS changed): the rules are checked again.
    Endpoint.objects.filter(pk=endpoint.pk).update(url="http://localhost/hook")
    connections: list[tuple[str, int]] = []
    real = fetcher.open_connection

    def counted(address: str, port: int, timeout: float) -> socket.socket:
        connections.append((address, port))
        return real(address, port, timeout)

    monkeypatch.setattr(fetcher, "open_connection", counted)
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, version)

    (sent,) = Delivery.objects.filter(endpoint=endpoint)
    assert sent.status == DeliveryStatus.FAILED
    assert sent.last_error.startswith("refused:")
    assert "blocked address" in sent.last_error
    assert Attempt.objects.get(delivery=sent).status_code is None
    assert connections == []
    assert receiver.received == []
