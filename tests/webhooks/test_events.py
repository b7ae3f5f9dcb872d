"""The events outbox: an event is written with its change or not at all, for one INSERT."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from events import services
from events.models import Event, EventType
from tests.base import Cast

pytestmark = pytest.mark.django_db


def _new(cast: Cast, n: int) -> services.NewEvent:
    return services.NewEvent(
        type=EventType.AWARD_ISSUED,
        institution_id=cast.institution.pk,
        issuer_id=cast.issuer.pk,
        data={"award_id": str(n)},
    )


def test_a_hundred_events_cost_one_insert(cast: Cast) -> None:
    with CaptureQueriesContext(connection) as captured:
        services.emit_many(events=[_new(cast, n) for n in range(100)])
    assert len(captured.captured_queries) == 1
    assert Event.objects.filter(type=EventType.AWARD_ISSUED).count() == 100


def test_an_event_is_rolled_back_with_its_change(cast: Cast) -> None:
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        services.emit(
            type=EventType.AWARD_REVOKED,
            institution_id=cast.institution.pk,
            issuer_id=None,
            data={},
        )
        raise ZeroDivisionError("the change failed")
    assert not Event.objects.filter(type=EventType.AWARD_REVOKED).exists()


def test_the_webhook_id_is_stable_and_spec_shaped(cast: Cast) -> None:
    (event,) = services.emit_many(events=[_new(cast, 1)])
    assert event.webhook_id == f"msg_{event.pk.hex}"
    assert Event.objects.get(pk=event.pk).webhook_id == event.webhook_id


def test_an_unknown_type_is_refused(cast: Cast) -> None:
    bad = services.NewEvent(
        type="award.eaten", institution_id=cast.institution.pk, issuer_id=None, data={}
    )
    with pytest.raises(ValueError, match="unknown event type"):
        services.emit_many(events=[bad])


@pytest.mark.django_db(transaction=True)
def test_emitting_outside_a_transaction_is_refused(cast: Cast) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.emit(
            type=EventType.AWARD_ISSUED,
            institution_id=cast.institution.pk,
            issuer_id=None,
            data={},
        )
    assert not Event.objects.exists()
