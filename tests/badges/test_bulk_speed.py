"""What makes bulk issuing fast without giving up its guarantees (issue 19): status indexes
drawn from a per-list sequence through a keyed permutation (distinct and random-looking, no
probing), a chunk whose statements do not grow with its rows, and lanes (threads) that issue
one batch together, each row once."""

from __future__ import annotations

import itertools
import uuid

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from awarding.bulk import services as bulk_services
from awarding.bulk import tasks
from badges.models import (
    Award,
    BatchState,
    BulkBatch,
    BulkRow,
    RowState,
    StatusEntry,
    StatusList,
    StatusPurpose,
)
from badges.statuslists import services as statuslist_services
from tests.badges.helpers import make_published
from tests.base import Cast, make_cast


def _permutation(length: int = 131_072, key: bytes = b"k" * 32) -> statuslist_services._Permutation:
    status_list = StatusList(
        id=uuid.uuid4(), purpose=StatusPurpose.REVOCATION, length=length, draw_key=key
    )
    return statuslist_services._Permutation(status_list)


def test_the_permutation_gives_every_index_of_the_list_exactly_once() -> None:
    permute = _permutation()

    indexes = [permute(slot) for slot in range(131_072)]

    assert sorted(indexes) == list(range(131_072))


def test_drawn_indexes_look_random_and_depend_on_the_lists_secret() -> None:
    first = [_permutation()(slot) for slot in range(1000)]
    other = [_permutation(key=b"x" * 32)(slot) for slot in range(1000)]

    # Herd privacy (Bitstring Status List v1.0 §5.1): the order of the draws does not show.
    assert max(first) - min(first) > 100_000
    assert sum(a < b for a, b in itertools.pairwise(first)) < 600
    assert first != sorted(first)
    assert sum(a == b for a, b in zip(first, other, strict=True)) < 10


@pytest.mark.django_db
def test_a_chunk_draws_its_indexes_in_three_queries_whatever_its_size(cast: Cast) -> None:
    statuslist_services.open_lists(cast.issuer)
    with transaction.atomic():  # the first draw of each list creates its sequence
        statuslist_services.allocate_many(issuer=cast.issuer, award_ids=[uuid.uuid4()])
        counts = []
        for size in (1, 300):
            award_ids = [uuid.uuid4() for _n in range(size)]
            with CaptureQueriesContext(connection) as queries:
                carried = statuslist_services.allocate_many(issuer=cast.issuer, award_ids=award_ids)
            counts.append(len(queries))
            assert set(carried) == set(award_ids)
        entries = list(StatusEntry.objects.values_list("status_list_id", "index", "purpose"))
        transaction.set_rollback(True)  # the awards were never created

    assert counts == [3, 3]  # the open lists, the next slots, one INSERT of every entry
    assert len(entries) == len(set(entries)) == 2 * 302
    assert {purpose for _list, _index, purpose in entries} == set(StatusPurpose.values)


@pytest.mark.django_db
def test_a_list_filled_before_the_sequences_keeps_its_entries_and_closes_when_full(
    cast: Cast,
) -> None:
    """A list created without a draw sequence (before sequences, or by a restore) gets one on
    first use, counting from its entries; the unique index refuses a slot whose index an old
    random entry holds, and that award draws again; past capacity, a new list opens."""
    old = StatusList.objects.create(
        issuer=cast.issuer, purpose=StatusPurpose.SUSPENSION, capacity=6
    )
    permute = statuslist_services._Permutation(old)
    drawn = {permute(slot) for slot in range(12)}
    elsewhere = next(index for index in range(100) if index not in drawn)
    with transaction.atomic():
        for index in (permute(3), elsewhere):  # two old entries, one where slot 3 lands
            StatusEntry.objects.create(
                award_id=uuid.uuid4(), status_list=old, purpose=old.purpose, index=index
            )
        first = statuslist_services.allocate_many(
            issuer=cast.issuer, award_ids=[uuid.uuid4() for _n in range(3)]
        )
        old.refresh_from_db()
        full_after_first = old.is_full
        (last,) = statuslist_services.allocate_many(
            issuer=cast.issuer, award_ids=[uuid.uuid4()]
        ).values()
        old.refresh_from_db()
        in_old = StatusEntry.objects.filter(status_list=old).count()
        transaction.set_rollback(True)

    # Slots 2, 3 (refused: taken) and 4, then 5 for the refused one; 6 is past capacity.
    assert sorted(e.status_list_index for e in first.values()) == sorted(
        [permute(2), permute(4), permute(5)]
    )
    assert not full_after_first
    assert in_old == 2 + 3
    assert old.is_full
    assert str(old.pk) not in last.status_list_credential


@pytest.mark.django_db
def test_a_chunk_costs_the_same_statements_for_few_or_many_rows(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    statuslist_services.open_lists(cast.issuer)
    counts = []
    for size in (1, 3, 60):  # the first chunk also fills caches
        lines = "".join(f"l{size}-{n}@example.com,Learner {n}\n" for n in range(size))
        batch = bulk_services.create_batch(
            actor=cast.awarder,
            version=version,
            file_name="cohort.csv",
            data=("Email,Name\n" + lines).encode(),
            notify=False,
        )
        BulkBatch.objects.filter(pk=batch.pk).update(state=BatchState.RUNNING)
        with override_settings(BULK_CHUNK=100), CaptureQueriesContext(connection) as queries:
            assert bulk_services.issue_chunk(batch_id=batch.pk) == size
        counts.append(len(queries))
        assert set(BulkRow.objects.filter(batch=batch).values_list("state", flat=True)) == {
            RowState.SIGNED
        }

    assert counts[1] == counts[2]


@pytest.mark.django_db(transaction=True)
def test_lanes_issue_one_batch_together_and_award_every_row_once() -> None:
    cast = make_cast()
    version = make_published(cast.editor, cast.issuer)
    lines = "".join(f"lane{n}@example.com,Learner {n}\n" for n in range(40))
    batch = bulk_services.create_batch(
        actor=cast.awarder,
        version=version,
        file_name="cohort.csv",
        data=("Email,Name\n" + lines).encode(),
        notify=False,
    )
    BulkBatch.objects.filter(pk=batch.pk).update(state=BatchState.RUNNING)
    statuslist_services.open_lists(cast.issuer)

    with override_settings(BULK_CHUNK=4, BULK_LANES=3):
        issued = tasks.issue_batch(str(batch.pk))

    assert issued == 40
    rows = BulkRow.objects.filter(batch=batch)
    assert set(rows.values_list("state", flat=True)) == {RowState.SIGNED}
    assert Award.objects.count() == 40
    assert len(set(rows.values_list("award_id", flat=True))) == 40
    assert BulkBatch.objects.get(pk=batch.pk).state == BatchState.DONE
    entries = list(StatusEntry.objects.values_list("status_list_id", "index"))
    assert len(entries) == len(set(entries)) == 80
