"""Status lists kept current incrementally (issue 19 item 4): the stored bits follow every
revocation, suspension and reinstatement in its own transaction, the served list is signed from
them, and they always equal the bits computed from the awards from scratch."""

from __future__ import annotations

import contextlib
import importlib
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awarding.revocation import services as revocation_services
from badges.models import Award, AwardStatus, StatusEntry, StatusList, StatusPurpose
from badges.statuslists import serving
from badges.statuslists.selectors import bitstring
from openbadges import statuslist
from tests.badges.helpers import award, make_published
from tests.badges.test_status_lists import verify_list
from tests.base import CaptureCallbacks, Cast

AWARDS = 6
Step = tuple[str, list[int]]
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["revoke", "suspend", "reinstate", "bulk_revoke"]),
        st.lists(st.integers(0, AWARDS - 1), min_size=1, max_size=3, unique=True),
    ),
    max_size=10,
)


def served_bits(client: Client, status_list_id: uuid.UUID) -> bytes:
    response = client.get(reverse("status_list", args=[status_list_id]))
    assert response.status_code == 200, response.content
    listed: dict[str, Any] = json.loads(response.content)
    return statuslist.decode(listed["credentialSubject"]["encodedList"])


def from_scratch(status_list_id: uuid.UUID) -> bytes:
    return bytes(bitstring(StatusList.objects.get(pk=status_list_id)))


def stored(status_list_id: uuid.UUID) -> bytes:
    status_list = StatusList.objects.get(pk=status_list_id)
    assert status_list.bits is not None
    return bytes(status_list.bits).ljust(status_list.length // 8, b"\0")


def apply(cast: Cast, step: Step, award_ids: list[uuid.UUID]) -> None:
    action, which = step
    chosen = [Award.objects.get(pk=award_ids[n]) for n in which]
    if action == "bulk_revoke":
        revocation_services.bulk_revoke(
            actor=cast.editor,
            awards=Award.objects.filter(pk__in=[a.pk for a in chosen]),
            reason="R",
        )
        return
    changes: dict[str, Callable[..., Award]] = {
        "revoke": revocation_services.revoke_award,
        "suspend": revocation_services.suspend_award,
        "reinstate": revocation_services.reinstate_award,
    }
    change = changes[action]
    for found in chosen:
        # Not allowed from its status (revoked is final): unchanged.
        with contextlib.suppress(ValidationError):
            change(actor=cast.editor, award=found, reason="Why")


@pytest.fixture
def spread(cast: Cast) -> list[uuid.UUID]:
    """Six awards over two lists of each purpose (the first lists hold three entries)."""
    for purpose in StatusPurpose:
        StatusList.objects.create(issuer=cast.issuer, purpose=purpose, capacity=3)
    version = make_published(cast.editor, cast.issuer)
    ids = [award(cast.awarder, version, email=f"l{n}@example.com").pk for n in range(AWARDS)]
    assert StatusList.objects.filter(issuer=cast.issuer).count() == 4
    return ids


@pytest.mark.django_db
def test_the_served_bits_equal_the_bits_from_scratch_after_any_sequence_of_changes(
    cast: Cast, client: Client, spread: list[uuid.UUID]
) -> None:
    """Random revocations, suspensions, reinstatements and bulk revocations across awards in
    two lists of each purpose: after every step, each served list decodes to the bits computed
    from the awards' status from scratch (the way every request did before), and so do the
    stored bits."""
    list_ids = list(StatusList.objects.filter(issuer=cast.issuer).values_list("pk", flat=True))

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps=STEPS)
    def run(steps: list[Step]) -> None:
        savepoint = transaction.savepoint()  # each example starts from six active awards
        try:
            for step in steps:
                apply(cast, step, spread)
                for status_list_id in list_ids:
                    expected = from_scratch(status_list_id)
                    assert stored(status_list_id) == expected, step
                    assert served_bits(client, status_list_id) == expected, step
        finally:
            transaction.savepoint_rollback(savepoint)

    run()


@pytest.mark.django_db
def test_the_bits_mean_what_docs_status_lists_says(
    cast: Cast, client: Client, spread: list[uuid.UUID]
) -> None:
    """Suspension bit: suspended or revoked; revocation bit: revoked; reinstating clears the
    suspension bit (``BIT_STATUSES``)."""
    suspended, reinstated, revoked, untouched = (
        Award.objects.get(pk=spread[n]) for n in (0, 1, 2, 3)
    )
    revocation_services.suspend_award(actor=cast.editor, award=suspended, reason="Check")
    revocation_services.suspend_award(actor=cast.editor, award=reinstated, reason="Check")
    reinstated.refresh_from_db()
    revocation_services.reinstate_award(actor=cast.editor, award=reinstated, reason="")
    revocation_services.suspend_award(actor=cast.editor, award=revoked, reason="Check")
    revoked.refresh_from_db()
    revocation_services.revoke_award(actor=cast.editor, award=revoked, reason="Error")

    def bit(found: Award, purpose: StatusPurpose) -> bool:
        entry = StatusEntry.objects.get(award=found, purpose=purpose)
        return statuslist.is_set(served_bits(client, entry.status_list_id), entry.index)

    seen = {
        name: (bit(a, StatusPurpose.SUSPENSION), bit(a, StatusPurpose.REVOCATION))
        for name, a in (
            ("suspended", suspended),
            ("reinstated", reinstated),
            ("revoked", revoked),
            ("untouched", untouched),
        )
    }
    assert seen == {
        "suspended": (True, False),
        "reinstated": (False, False),
        "revoked": (True, True),
        "untouched": (False, False),
    }


@pytest.mark.django_db
def test_a_change_costs_three_queries_for_one_award_or_many_across_lists(
    cast: Cast, spread: list[uuid.UUID], django_assert_num_queries: Any
) -> None:
    """Their entries, the lists locked, one UPDATE of every list: no query per entry."""
    Award.objects.filter(pk__in=spread).update(status=AwardStatus.REVOKED)
    with transaction.atomic(), django_assert_num_queries(3):
        serving.mark_changed(spread[:1])
    with transaction.atomic(), django_assert_num_queries(3):
        serving.mark_changed(spread)  # all four lists
    for status_list in StatusList.objects.filter(issuer=cast.issuer):
        assert stored(status_list.pk) == from_scratch(status_list.pk)


@pytest.mark.django_db
def test_the_list_is_signed_once_the_change_commits_and_then_served_as_stored(
    cast: Cast,
    client: Client,
    spread: list[uuid.UUID],
    django_capture_on_commit_callbacks: CaptureCallbacks,
    django_assert_num_queries: Any,
) -> None:
    found = Award.objects.get(pk=spread[4])
    entry = StatusEntry.objects.get(award=found, purpose=StatusPurpose.SUSPENSION)
    with django_capture_on_commit_callbacks(execute=True):
        revocation_services.suspend_award(actor=cast.editor, award=found, reason="Check")

    status_list = StatusList.objects.get(pk=entry.status_list_id)
    assert status_list.signed_version == status_list.version  # signed by the task
    with django_assert_num_queries(1):  # the request only reads it
        bits = served_bits(client, entry.status_list_id)
    assert statuslist.is_set(bits, entry.index)
    assert verify_list(client, json.loads(status_list.signed_json))


@pytest.mark.django_db
def test_a_list_whose_bits_are_not_known_is_filled_from_its_entries_on_first_use(
    cast: Cast, client: Client, spread: list[uuid.UUID]
) -> None:
    found = Award.objects.get(pk=spread[0])
    revocation_services.revoke_award(actor=cast.editor, award=found, reason="Error")
    entry = StatusEntry.objects.get(award=found, purpose=StatusPurpose.REVOCATION)
    StatusList.objects.filter(pk=entry.status_list_id).update(bits=None, signed_version=-1)

    assert statuslist.is_set(served_bits(client, entry.status_list_id), entry.index)
    assert stored(entry.status_list_id) == from_scratch(entry.status_list_id)


@pytest.mark.django_db
def test_repair_finds_and_fixes_a_change_made_behind_the_services_back(
    cast: Cast, client: Client, spread: list[uuid.UUID]
) -> None:
    entry = StatusEntry.objects.get(award_id=spread[1], purpose=StatusPurpose.REVOCATION)
    served_bits(client, entry.status_list_id)
    Award.objects.filter(pk=spread[1]).update(status=AwardStatus.REVOKED)  # no mark_changed
    assert not statuslist.is_set(served_bits(client, entry.status_list_id), entry.index)

    assert serving.repair_bits(entry.status_list_id) is True
    assert statuslist.is_set(served_bits(client, entry.status_list_id), entry.index)
    assert serving.repair_bits(entry.status_list_id) is False  # nothing left to repair


@pytest.mark.django_db
def test_the_migration_fills_the_bits_of_existing_lists(
    cast: Cast, spread: list[uuid.UUID]
) -> None:
    for n, change in (
        (0, revocation_services.revoke_award),
        (4, revocation_services.suspend_award),
    ):
        change(actor=cast.editor, award=Award.objects.get(pk=spread[n]), reason="Why")
    StatusList.objects.update(bits=b"")  # as the new column leaves every existing list
    migration = importlib.import_module("badges.migrations.0010_statuslist_bits")

    migration.fill(apps, None)

    for status_list in StatusList.objects.filter(issuer=cast.issuer):
        assert stored(status_list.pk) == from_scratch(status_list.pk)
    assert any(
        stored(pk) != bytes(len(stored(pk)))
        for pk in StatusList.objects.values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_the_beat_task_signs_lists_before_a_request_has_to(
    cast: Cast, client: Client, spread: list[uuid.UUID]
) -> None:
    lists = list(StatusList.objects.filter(issuer=cast.issuer).order_by("pk"))
    for status_list in lists:
        served_bits(client, status_list.pk)  # signed now
    old = timezone.now() - timedelta(hours=11, minutes=30)
    StatusList.objects.filter(pk=lists[0].pk).update(signed_at=old)

    assert serving.sign_due_lists() == 1
    assert serving.sign_due_lists() == 0
    signed_at = StatusList.objects.get(pk=lists[0].pk).signed_at
    assert signed_at is not None
    assert signed_at > old
