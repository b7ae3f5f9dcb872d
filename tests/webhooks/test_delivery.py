"""What happens to a badge reaches the institution's receiver as a Standard Webhooks message:
signed, with the same ``webhook-id`` every time, checked by the reference library."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from awarding.bulk import services as bulk_services
from awarding.revocation import services as revocation_services
from badges import credentials
from badges.models import Award
from badges.notifications import links
from badges.selectors import awards_matching
from badges.services import award_event
from events import services as event_services
from events.models import Event, EventType
from frameworks.pathways import services as pathway_services
from frameworks.pathways.trees import GroupSpec
from tests.badges.helpers import award, make_published
from tests.base import CaptureCallbacks, Cast, make_issuer
from tests.webhooks.conftest import HOOK_URL
from tests.webhooks.receiver import Receiver
from webhooks import delivery, services
from webhooks.models import Delivery, DeliveryStatus, Endpoint
from webhooks.outbox import services as outbox

pytestmark = pytest.mark.django_db


def test_our_signature_is_the_reference_librarys() -> None:
    secret = delivery.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    body = '{"type":"award.issued","data":{"name":"数据素养"}}'.encode()
    stamp = int(time.time())
    ours = delivery.sign(secret, "msg_1", stamp, body)
    theirs = Webhook(secret).sign("msg_1", datetime.fromtimestamp(stamp, UTC), body.decode())
    assert ours == theirs
    two = delivery.headers([secret, delivery.new_secret()], "msg_1", stamp, body)
    assert two["webhook-signature"].split(" ")[0] == ours
    assert Webhook(secret).verify(body, two)["data"]["name"] == "数据素养"


def test_an_award_reaches_the_receiver_signed(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        given = award(cast.awarder, version, email="lee@example.com", name="Lee Learner")

    (got,) = receiver.received
    assert got.verified, got.problem
    assert got.path == "/insignia/events"
    assert got.headers["content-type"] == "application/json"
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 300
    event = Event.objects.get(type=EventType.AWARD_ISSUED, subject=str(given.pk))
    assert got.id == f"msg_{event.pk.hex}"
    assert got.json["type"] == "award.issued"
    assert got.json["timestamp"].endswith("Z")
    data = got.json["data"]
    assert data["award_id"] == str(given.pk)
    assert data["credential_id"] == credentials.credential_url(given.pk)
    assert data["achievement_id"] == str(version.achievement_id)
    assert data["achievement_name"] == "Data Literacy"
    assert data["recipient_email"] == "lee@example.com"
    assert data["issuer"] == cast.issuer.slug
    sent = Delivery.objects.get(event=event, endpoint=endpoint)
    assert (sent.status, sent.attempts, sent.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    assert '"ok": true' in sent.last_response


def test_claim_suspend_reinstate_and_revoke_are_announced_in_order(
    client: Client,
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        given = award(cast.awarder, version, email="lee@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("claim", args=[links.claim_token(given)])).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("claim", args=[links.claim_token(given)]))  # claimed once only
    with django_capture_on_commit_callbacks(execute=True):
        revocation_services.suspend_award(actor=cast.editor, award=given, reason="Check")
    with django_capture_on_commit_callbacks(execute=True):
        revocation_services.reinstate_award(actor=cast.editor, award=given, reason="OK")
    with django_capture_on_commit_callbacks(execute=True):
        revocation_services.revoke_award(actor=cast.editor, award=given, reason="Error")

    assert all(r.verified for r in receiver.received)
    assert [r.json["type"] for r in receiver.received] == [
        "award.issued",
        "award.claimed",
        "award.suspended",
        "award.reinstated",
        "award.revoked",
    ]
    assert len({r.id for r in receiver.received}) == 5
    claimed, suspended, _reinstated, revoked = (r.json["data"] for r in receiver.received[1:])
    assert claimed["claimed_at"]
    assert (suspended["status"], suspended["reason"]) == ("suspended", "Check")
    assert (revoked["status"], revoked["reason"]) == ("revoked", "Error")
    assert {r.json["data"]["award_id"] for r in receiver.received} == {str(given.pk)}


def test_a_bulk_revocation_announces_each_badge(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    version = make_published(cast.editor, cast.issuer)
    given = [award(cast.awarder, version, email=f"learner{n}@example.com") for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        result = revocation_services.bulk_revoke(
            actor=cast.editor,
            awards=awards_matching(cast.institution, achievement=version.achievement),
            reason="Course withdrawn",
        )
    assert result.revoked == 3
    revoked = receiver.of_type("award.revoked")
    assert {r.json["data"]["award_id"] for r in revoked} == {str(a.pk) for a in given}
    assert all(r.verified and r.json["data"]["reason"] == "Course withdrawn" for r in revoked)


def test_a_finished_bulk_upload_is_announced_with_its_counts(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="had@example.com")  # skipped: already holds it
    rows = "Email,Name\nann@example.com,Ann\nbob@example.com,Bob\nhad@example.com,Had\n"
    batch = bulk_services.create_batch(
        actor=cast.awarder, version=version, file_name="cohort.csv", data=rows.encode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        bulk_services.start_batch(actor=cast.awarder, batch=batch)

    (finished,) = receiver.of_type("batch.finished")
    assert finished.verified, finished.problem
    data = finished.json["data"]
    assert data["batch_id"] == str(batch.pk)
    assert (data["total_rows"], data["issued"], data["skipped"], data["failed"]) == (3, 2, 1, 0)
    issued = {r.json["data"]["recipient_email"] for r in receiver.of_type("award.issued")}
    # had@'s earlier award was not dispatched then (no commit ran its callbacks): the next
    # dispatch sent it along.
    assert issued == {"ann@example.com", "bob@example.com", "had@example.com"}


def test_a_completed_pathway_is_announced(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    parts = [make_published(cast.editor, cast.issuer, slug=f"part-{n}") for n in range(2)]
    target = make_published(cast.editor, cast.issuer, slug="diploma", name_en="Data Diploma")
    pathway = pathway_services.create_pathway(
        actor=cast.editor,
        institution=cast.institution,
        title_en="Data pathway",
        target=target.achievement,
        root=GroupSpec(rule="all", achievements=[p.achievement for p in parts]),
    )
    for part in parts:
        with django_capture_on_commit_callbacks(execute=True):
            award(cast.awarder, part, email="lee@example.com")

    (completed,) = receiver.of_type("pathway.completed")
    assert completed.verified, completed.problem
    data = completed.json["data"]
    credential = Award.objects.get(achievement_version=target)
    assert data["pathway_id"] == str(pathway.pk)
    assert data["recipient_email"] == "lee@example.com"
    assert data["award_id"] == str(credential.pk)
    assert len(data["counted_award_ids"]) == 2
    names = [r.json["data"]["achievement_name"] for r in receiver.of_type("award.issued")]
    assert sorted(names) == ["Data Diploma", "Data Literacy", "Data Literacy"]


def test_an_expired_badge_is_announced_once(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    version = make_published(cast.editor, cast.issuer)
    now = timezone.now()
    expiring = award(
        cast.awarder, version, email="lee@example.com", valid_until=now + timedelta(days=1)
    )
    revoked = award(
        cast.awarder, version, email="rev@example.com", valid_until=now + timedelta(days=1)
    )
    revocation_services.revoke_award(actor=cast.editor, award=revoked, reason="Error")
    award(cast.awarder, version, email="keeps@example.com", valid_until=now + timedelta(days=30))
    receiver.received.clear()

    for days in (0, 2, 3, 2):  # before, after, later, and a scan that overlaps an earlier one
        with django_capture_on_commit_callbacks(execute=True):
            outbox.emit_expired_awards(now=now + timedelta(days=days))
    # Even emitted again by hand, the database keeps one event per expired award.
    with django_capture_on_commit_callbacks(execute=True):
        event_services.emit_many(
            events=[award_event(expiring, EventType.AWARD_EXPIRED)], skip_existing=True
        )

    (expired,) = receiver.of_type("award.expired")
    assert expired.verified, expired.problem
    assert expired.json["data"]["award_id"] == str(expiring.pk)
    assert Event.objects.filter(type=EventType.AWARD_EXPIRED).count() == 1


def test_an_endpoint_gets_only_the_events_and_issuers_it_chose(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    other_issuer = make_issuer(cast.institution, "poly-arts", cast.owner)
    revocations = services.create_endpoint(
        actor=cast.owner,
        institution=cast.institution,
        url="https://hooks.test/revocations",
        event_types=["award.revoked"],
    )
    arts = services.create_endpoint(
        actor=cast.owner,
        institution=cast.institution,
        url="https://hooks.test/arts",
        issuers=[other_issuer],
    )
    receiver.secrets = [endpoint.secret, revocations.secret, arts.secret]
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        given = award(cast.awarder, version)
    with django_capture_on_commit_callbacks(execute=True):
        revocation_services.revoke_award(actor=cast.editor, award=given, reason="Error")
    # Another institution's award reaches none of them.
    theirs = make_published(cast.outsider, cast.other_issuer, slug="rival-badge")
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.outsider, theirs)

    by_path: dict[str, list[str]] = {}
    for got in receiver.received:
        assert got.verified, got.problem
        by_path.setdefault(got.path, []).append(got.json["type"])
    assert by_path == {
        "/insignia/events": ["award.issued", "award.revoked"],
        "/revocations": ["award.revoked"],
    }
    assert not Delivery.objects.filter(endpoint=arts).exists()


def test_during_a_rotation_a_receiver_with_the_old_secret_still_verifies(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    old = endpoint.secret
    services.rotate_secret(actor=cast.owner, endpoint=endpoint)
    assert endpoint.secret != old
    receiver.secrets = [old]  # the receiver has not changed over yet
    with django_capture_on_commit_callbacks(execute=True):
        services.send_test_event(actor=cast.owner, endpoint=endpoint)
    receiver.secrets = [endpoint.secret]  # and now it has
    with django_capture_on_commit_callbacks(execute=True):
        services.send_test_event(actor=cast.owner, endpoint=endpoint)
    assert [r.verified for r in receiver.received] == [True, True]
    assert receiver.received[0].json["type"] == "webhook.test"
    assert len(receiver.received[0].headers["webhook-signature"].split(" ")) == 2

    # After the grace period only the new secret signs: the old one no longer verifies.
    later = timezone.now() + timedelta(hours=25)
    receiver.secrets = [old]
    services.send_test_event(actor=cast.owner, endpoint=endpoint, now=later)
    outbox.deliver_due(now=later)
    assert receiver.received[-1].verified is False
    assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 1
    assert Delivery.objects.filter(status=DeliveryStatus.FAILED, last_status_code=401).count() == 1


def test_nothing_is_written_twice_when_dispatch_runs_again(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, version)
    assert outbox.dispatch() == 0
    assert len(receiver.received) == 1
    assert Delivery.objects.count() == 1
    assert HOOK_URL.endswith(receiver.received[0].path)


def test_events_past_the_retention_period_are_pruned_with_their_deliveries(
    cast: Cast,
    endpoint: Endpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        old = award(cast.awarder, version, email="old@example.com")
        new = award(cast.awarder, version, email="new@example.com")
    Event.objects.filter(subject=str(old.pk)).update(created_at=timezone.now() - timedelta(days=31))
    assert outbox.prune() == 1
    assert list(Event.objects.values_list("subject", flat=True)) == [str(new.pk)]
    assert Delivery.objects.filter(endpoint=endpoint).count() == 1
