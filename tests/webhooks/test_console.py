"""The webhooks console: owners only, nothing of another institution's, every change audited,
the secret shown once, and the pages in English and Chinese."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from issuers.models import AuditAction, AuditEvent
from tests.badges.helpers import award, make_published
from tests.base import CaptureCallbacks, Cast
from tests.webhooks.receiver import Receiver
from webhooks import services
from webhooks.models import Delivery, DeliveryStatus, Endpoint

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.webhooks.urls")]

NAMES = [
    "webhooks",
    "webhook_create",
    "webhook_detail",
    "webhook_edit",
    "webhook_delete",
    "webhook_rotate",
    "webhook_enable",
    "webhook_disable",
    "webhook_test",
    "webhook_redeliver",
]


def _urls(slug: str, endpoint: Endpoint, delivery: Delivery) -> list[str]:
    found = []
    for name in NAMES:
        args: list[Any] = [slug]
        if name not in ("webhooks", "webhook_create"):
            args.append(endpoint.pk)
        if name == "webhook_redeliver":
            args.append(delivery.pk)
        found.append(reverse(f"manage:{name}", args=args))
    return found


@pytest.fixture
def delivered(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> Delivery:
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, version, email="victim-learner@poly.example")
    return Delivery.objects.get(endpoint=endpoint)


def test_every_webhooks_url_is_listed_here() -> None:
    from webhooks.urls import manage_patterns

    assert sorted(p.name for p in manage_patterns if p.name) == sorted(NAMES)


def _unchanged(endpoint: Endpoint) -> None:
    secret = endpoint.secret
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.enabled) == (secret, True)
    assert (
        not AuditEvent.objects.filter(action__startswith="webhook.")
        .exclude(action=AuditAction.WEBHOOK_CREATED)
        .exists()
    )


def test_an_owner_of_another_institution_gets_404_everywhere(
    client: Client, cast: Cast, endpoint: Endpoint, delivered: Delivery
) -> None:
    client.force_login(cast.outsider)
    for url in _urls(cast.institution.slug, endpoint, delivered):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"url": "https://hooks.test/x"}).status_code == 404, url
    # Nor through the outsider's own institution, with this institution's endpoint.
    for url in _urls(cast.other_institution.slug, endpoint, delivered)[2:]:
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url
    _unchanged(endpoint)


@pytest.mark.parametrize("member", ["editor", "awarder", "viewer"])
def test_staff_other_than_owners_get_403(
    client: Client, cast: Cast, endpoint: Endpoint, delivered: Delivery, member: str
) -> None:
    user: User = getattr(cast, member)
    client.force_login(user)
    for url in _urls(cast.institution.slug, endpoint, delivered):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"url": "https://hooks.test/x"}).status_code == 403, url
    _unchanged(endpoint)


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(
    client: Client, cast: Cast, receiver: Receiver
) -> None:
    client.force_login(cast.owner)
    response = client.post(
        reverse("manage:webhook_create", args=[cast.institution.slug]),
        {
            "url": "https://hooks.test/sis",
            "description": "Student records",
            "event_types": ["award.issued", "award.revoked"],
            "issuers": [cast.issuer.pk],
        },
    )
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    endpoint = Endpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    assert (endpoint.event_types, list(endpoint.issuers.all())) == (
        ["award.issued", "award.revoked"],
        [cast.issuer],
    )
    assert endpoint.created_by == cast.owner
    detail = client.get(reverse("manage:webhook_detail", args=[cast.institution.slug, endpoint.pk]))
    assert detail.status_code == 200
    assert endpoint.secret not in detail.content.decode()
    listed = client.get(reverse("manage:webhooks", args=[cast.institution.slug]))
    assert "https://hooks.test/sis" in listed.content.decode()
    assert endpoint.secret not in listed.content.decode()


def test_an_owner_tests_rotates_resends_disables_enables_and_deletes(
    client: Client,
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    delivered: Delivery,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    client.force_login(cast.owner)
    slug, pk = cast.institution.slug, endpoint.pk
    detail = reverse("manage:webhook_detail", args=[slug, pk])

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("manage:webhook_test", args=[slug, pk]))
    assert answer.status_code == 302 and answer["Location"] == detail
    assert receiver.received[-1].json["type"] == "webhook.test"
    assert receiver.received[-1].verified

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("manage:webhook_redeliver", args=[slug, pk, delivered.pk]))
    assert receiver.received[-1].id == receiver.received[0].id  # the award, again
    page = client.get(detail).content.decode()
    assert "webhook.test" in page and "award.issued" in page and "HTTP 200" in page

    old = endpoint.secret
    assert client.get(reverse("manage:webhook_rotate", args=[slug, pk])).status_code == 200
    rotated = client.post(reverse("manage:webhook_rotate", args=[slug, pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in rotated.content.decode()
    assert "no-cache" in rotated["Cache-Control"]

    client.post(reverse("manage:webhook_disable", args=[slug, pk]))
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    refused = client.post(reverse("manage:webhook_test", args=[slug, pk]), follow=True)
    assert "Enable the endpoint first" in refused.content.decode()
    client.post(reverse("manage:webhook_enable", args=[slug, pk]))
    endpoint.refresh_from_db()
    assert endpoint.enabled

    edited = client.post(
        reverse("manage:webhook_edit", args=[slug, pk]),
        {"url": "https://hooks.test/v2", "description": "Version 2"},
    )
    assert edited.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description) == ("https://hooks.test/v2", "Version 2")

    assert client.get(reverse("manage:webhook_delete", args=[slug, pk])).status_code == 200
    client.post(reverse("manage:webhook_delete", args=[slug, pk]))
    assert not Endpoint.objects.exists()
    assert not Delivery.objects.filter(pk=delivered.pk).exists()

    done = set(
        AuditEvent.objects.filter(
            institution=cast.institution, actor=cast.owner, action__startswith="webhook."
        ).values_list("action", flat=True)
    )
    assert done == {
        AuditAction.WEBHOOK_CREATED,
        AuditAction.WEBHOOK_TESTED,
        AuditAction.WEBHOOK_REDELIVERED,
        AuditAction.WEBHOOK_SECRET_ROTATED,
        AuditAction.WEBHOOK_DISABLED,
        AuditAction.WEBHOOK_ENABLED,
        AuditAction.WEBHOOK_UPDATED,
        AuditAction.WEBHOOK_DELETED,
    }


@pytest.mark.parametrize(
    ("language", "expected", "lang"),
    [("en", "Micro-credentials", 'lang="en"'), ("zh-CN", "微证书", 'lang="zh-Hans"')],
)
def test_the_pages_render_in_english_and_chinese(
    client: Client,
    cast: Cast,
    endpoint: Endpoint,
    delivered: Delivery,
    language: str,
    expected: str,
    lang: str,
) -> None:
    client.force_login(cast.owner)
    slug, pk = cast.institution.slug, endpoint.pk
    for url in [
        reverse("manage:webhooks", args=[slug]),
        reverse("manage:webhook_create", args=[slug]),
        reverse("manage:webhook_detail", args=[slug, pk]),
        reverse("manage:webhook_edit", args=[slug, pk]),
        reverse("manage:webhook_delete", args=[slug, pk]),
        reverse("manage:webhook_rotate", args=[slug, pk]),
    ]:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        page = response.content.decode()
        assert response.status_code == 200, url
        assert f"<html {lang}>" in page, url
        assert expected in page, url


def test_the_issuers_page_links_owners_to_webhooks(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    page = client.get(reverse("manage:issuers", args=[cast.institution.slug])).content.decode()
    assert reverse("manage:webhooks", args=[cast.institution.slug]) in page
    client.force_login(cast.editor)
    page = client.get(reverse("manage:issuers", args=[cast.institution.slug])).content.decode()
    assert reverse("manage:webhooks", args=[cast.institution.slug]) not in page


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _grow(times: int, make: Callable[[int], object]) -> None:
    for n in range(times):
        make(n)


def test_the_pages_read_the_same_for_one_or_many(
    client: Client,
    cast: Cast,
    endpoint: Endpoint,
    delivered: Delivery,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    client.force_login(cast.owner)
    listing = reverse("manage:webhooks", args=[cast.institution.slug])
    detail = reverse("manage:webhook_detail", args=[cast.institution.slug, endpoint.pk])
    _count(client, listing)
    before = (_count(client, listing), _count(client, detail))
    _grow(
        3,
        lambda n: services.create_endpoint(
            actor=cast.owner, institution=cast.institution, url=f"https://hooks.test/{n}"
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        _grow(4, lambda n: services.send_test_event(actor=cast.owner, endpoint=endpoint))
    assert Delivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.SUCCEEDED).count() == 5
    assert (_count(client, listing), _count(client, detail)) == before
