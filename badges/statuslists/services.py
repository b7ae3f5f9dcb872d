"""Status-list writes: an index for every new award, and the signed lists kept current.

Allocation (DESIGN.md §4, research security §3.2 item 4): in the awards' own transaction, one
entry at a random-looking index (herd privacy, Bitstring Status List v1.0 §5.1) in the
issuer's open revocation list and one in its open suspension list. On PostgreSQL each list
hands out positions from its own sequence, and a keyed permutation turns a position into an
index (:func:`allocate_many`): distinct by construction, so a chunk of awards needs no probing,
read-back or count. Nothing locks a list row while awarding, so parallel awards do not queue
behind each other; ``UNIQUE (status_list, index)`` remains the final guard.

Serving (Bitstring Status List §2.2, research §4.1, security §1.9) lives in
``badges.statuslists.serving`` and is importable from here: every status change sets the
stored bits and bumps the list's ``version`` in the same transaction (:func:`mark_changed`); a
task signs the list after the change commits, and a request that still finds the signed list
older than the current version signs it from the stored bits first
(:func:`current_list_credential`), so the origin never serves a list that misses a committed
change.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from typing import Final

from django.db import connection, transaction

from badges.models import StatusEntry, StatusList, StatusPurpose
from badges.statuslists.selectors import CARRIED_PURPOSE, list_url

# Serving, importable from here as before (``badges.services`` calls ``mark_changed``).
from badges.statuslists.serving import StatusListUnavailable as StatusListUnavailable
from badges.statuslists.serving import current_list_credential as current_list_credential
from badges.statuslists.serving import mark_changed as mark_changed
from badges.statuslists.serving import set_holder_bit as set_holder_bit
from issuers.models import Issuer
from openbadges import ob3

_MAX_DRAWS: Final = 32
_random = secrets.SystemRandom()  # the probing draws of SQLite (:func:`_allocate_probing`)
_PURPOSES: Final = (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
_LIST_FIELDS: Final = ("pk", "issuer_id", "purpose", "length", "capacity", "draw_key")
_FEISTEL_ROUNDS: Final = 4


def _open_list(issuer: Issuer, purpose: str) -> StatusList:
    found = (
        StatusList.objects.filter(issuer=issuer, purpose=purpose, is_full=False)
        .only(*_LIST_FIELDS)
        .order_by("created_at", "pk")
        .first()
    )
    if found is not None:
        return found
    # Creating a list is rare: serialise it on the issuer row so two awards do not open two.
    Issuer.objects.select_for_update().filter(pk=issuer.pk).first()
    found = (
        StatusList.objects.filter(issuer=issuer, purpose=purpose, is_full=False)
        .only(*_LIST_FIELDS)
        .first()
    )
    if found is not None:
        return found
    created = StatusList.objects.create(issuer=issuer, purpose=purpose)
    if connection.vendor == "postgresql":
        _create_sequence(created, start=0)
    return created


def _open_lists(issuer: Issuer) -> dict[str, StatusList]:
    """The issuer's open list of each purpose (the oldest), opening any that is missing: one
    query when both exist."""
    found: dict[str, StatusList] = {}
    for status_list in (
        StatusList.objects.filter(issuer=issuer, is_full=False)
        .only(*_LIST_FIELDS)
        .order_by("created_at", "pk")
    ):
        found.setdefault(status_list.purpose, status_list)
    for purpose in _PURPOSES:
        if purpose not in found:
            found[purpose] = _open_list(issuer, purpose)
    return found


@transaction.atomic
def open_lists(issuer: Issuer) -> None:
    """Make sure the issuer has an open list of each purpose (before a bulk batch starts)."""
    _open_lists(issuer)


def _check_full(status_list: StatusList, collided: bool) -> None:
    # SQLite's probing draws only. Counting 100,000 rows on every award would cost more than
    # the award, so count when a draw collided (the list is filling up) or on a random 1 in
    # ``capacity // 64`` awards; the room between capacity and length absorbs the overshoot.
    every = max(1, min(256, status_list.capacity // 64))
    if not collided and secrets.randbelow(every):
        return
    if StatusEntry.objects.filter(status_list=status_list).count() >= status_list.capacity:
        StatusList.objects.filter(pk=status_list.pk).update(is_full=True)


def allocate_many(
    *, issuer: Issuer, award_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ob3.StatusEntry]:
    """Give each award about to be created its entries in the issuer's revocation and
    suspension lists; returns each award's entry of :data:`CARRIED_PURPOSE` (suspension) for
    its ``credentialStatus``. Call inside the awards' transaction, before signing (the entries
    reference the awards' ids before their rows exist: foreign keys are checked at commit).

    On PostgreSQL, three queries whatever the number of awards: the open lists; the next
    positions ("slots") of each list's draw sequence; one INSERT of every entry at index
    ``permutation(slot)`` (:class:`_Permutation`). A sequence hands each slot out once, to
    whichever transaction asks, without locking and without taking it back on rollback (a
    rolled-back chunk leaves unused slots: the list fills a little sooner), so parallel chunks
    never wait on each other, collide or read anything back. A list is full when its slots
    reach ``capacity``; the next award opens a new one. ``UNIQUE (status_list, index)`` stays
    the final guard: an entry the database refuses (in a list filled at random before the
    sequences existed) draws another slot. SQLite, single-writer, probes at random
    (:func:`_allocate_probing`).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("allocate_many must run inside the awards' transaction")
    if connection.vendor != "postgresql":
        return _allocate_probing(issuer=issuer, award_ids=award_ids)
    carried: dict[uuid.UUID, ob3.StatusEntry] = {}
    lists = _open_lists(issuer)
    wanting = {purpose: list(award_ids) for purpose in _PURPOSES}
    permutations: dict[uuid.UUID, _Permutation] = {}
    for _draw in range(_MAX_DRAWS):
        slots = _next_slots({lists[p]: len(ids) for p, ids in wanting.items() if ids})
        entries: list[tuple[uuid.UUID, StatusList, int]] = []
        full: set[StatusPurpose] = set()
        for purpose, ids in wanting.items():
            status_list = lists[purpose]
            if status_list.pk not in permutations:
                permutations[status_list.pk] = _Permutation(status_list)
            permute = permutations[status_list.pk]
            for award_id, slot in zip(ids, slots.get(status_list.pk, ()), strict=True):
                if slot < status_list.capacity:
                    entries.append((award_id, status_list, permute(slot)))
                else:
                    full.add(purpose)
        landed: dict[str, set[uuid.UUID]] = {purpose: set() for purpose in _PURPOSES}
        url = list_url(lists[CARRIED_PURPOSE].pk)  # reverse() once, not once per award
        for award_id, status_list, index in _insert_entries(entries):
            landed[status_list.purpose].add(award_id)
            if status_list.purpose == CARRIED_PURPOSE:
                carried[award_id] = ob3.StatusEntry(
                    status_list_credential=url,
                    status_list_index=index,
                    status_purpose=status_list.purpose,
                )
        wanting = {p: [a for a in ids if a not in landed[p]] for p, ids in wanting.items()}
        for purpose in full:
            StatusList.objects.filter(pk=lists[purpose].pk).update(is_full=True)
            lists[purpose] = _open_list(issuer, purpose)
        if not any(wanting.values()):
            return carried
    raise RuntimeError("no free status-list index after repeated draws")


def allocate_for_holder(
    *, issuer: Issuer, holder: uuid.UUID, purpose: StatusPurpose = StatusPurpose.REVOCATION
) -> ob3.StatusEntry:
    """Give a credential that is not an award (``holder``: an endorsement's id) its entry in
    the issuer's open list of ``purpose``, drawn as an award's is (the list's draw sequence
    and permutation on PostgreSQL, a random free index elsewhere), and return it for its
    ``credentialStatus``. Its bit is set by :func:`set_holder_bit`. Call inside the
    holder's transaction, before signing."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("allocate_for_holder must run inside the holder's transaction")
    status_list = _open_list(issuer, purpose)
    for _draw in range(_MAX_DRAWS):
        if connection.vendor == "postgresql":
            slot = _next_slots({status_list: 1})[status_list.pk][0]
            if slot >= status_list.capacity:
                StatusList.objects.filter(pk=status_list.pk).update(is_full=True)
                status_list = _open_list(issuer, purpose)
                continue
            index = _Permutation(status_list)(slot)
        else:
            index = _random.randrange(status_list.length)
        StatusEntry.objects.bulk_create(
            [StatusEntry(holder=holder, status_list=status_list, purpose=purpose, index=index)],
            ignore_conflicts=True,
        )
        if StatusEntry.objects.filter(holder=holder, purpose=purpose).exists():
            return ob3.StatusEntry(
                status_list_credential=list_url(status_list.pk),
                status_list_index=index,
                status_purpose=purpose,
            )
    raise RuntimeError("no free status-list index after repeated draws")


class _Permutation:
    """A keyed pseudo-random permutation of a list's indexes ``range(length)``: slot → index.

    A four-round Feistel network (Luby-Rackoff: a pseudo-random permutation when the round
    function is a pseudo-random function) over the smallest even number of bits that covers
    ``length``, with keyed BLAKE2b as round function (the list's secret ``draw_key``, salted
    with its id), walked again while the result falls outside the list ("cycle walking",
    which keeps it a bijection of ``range(length)``). Distinct slots therefore give distinct
    indexes, and without the key the indexes say nothing of the order awards were drawn in:
    the herd privacy of random draws (Bitstring Status List v1.0 §5.1), without probing.
    """

    def __init__(self, status_list: StatusList) -> None:
        self.length = status_list.length
        self.half = max(1, ((status_list.length - 1).bit_length() + 1) // 2)
        self.mask = (1 << self.half) - 1
        self.hash = hashlib.blake2b(
            key=bytes(status_list.draw_key), salt=status_list.pk.bytes, digest_size=8
        )

    def __call__(self, slot: int) -> int:
        value = slot
        while True:
            left, right = value >> self.half, value & self.mask
            for round_ in range(_FEISTEL_ROUNDS):
                step = self.hash.copy()
                step.update(right.to_bytes(8, "big") + bytes((round_,)))
                left, right = right, left ^ (int.from_bytes(step.digest(), "big") & self.mask)
            value = (left << self.half) | right
            if value < self.length:
                return value


def _sequence_name(list_id: uuid.UUID) -> str:
    """The PostgreSQL sequence counting a list's draws (one per list, created with it)."""
    return f"badges_statuslist_draws_{list_id.hex}"


def _create_sequence(status_list: StatusList, *, start: int | None = None) -> None:
    """Create the list's draw sequence, its first slot ``start`` or, for a list filled before
    sequences existed, the number of entries it holds. Serialised on the list row, so two
    chunks finding it missing create it once."""
    StatusList.objects.select_for_update().filter(pk=status_list.pk).values_list("pk").first()
    if start is None:
        start = StatusEntry.objects.filter(status_list=status_list).count()
    name = connection.ops.quote_name(_sequence_name(status_list.pk))
    with connection.cursor() as cursor:
        cursor.execute(  # nosemgrep: raw-sql-string-formatting - see the next line
            f"CREATE SEQUENCE IF NOT EXISTS {name} MINVALUE 0 START WITH {int(start)}"  # nosec B608 - our quoted name, an int
        )


def _next_slots(wanted: dict[StatusList, int]) -> dict[uuid.UUID, list[int]]:
    """The next ``n`` slots of each list's draw sequence (list id → slots), in one query;
    a missing sequence (a list created before them) is created and asked again."""
    if not wanted:
        return {}
    part = "SELECT %s::integer, nextval(to_regclass(%s)) FROM generate_series(1, %s)"
    order = list(wanted)
    params: list[int | str] = []
    for position, status_list in enumerate(order):
        params += [position, _sequence_name(status_list.pk), wanted[status_list]]
    slots: dict[uuid.UUID, list[int]] = {status_list.pk: [] for status_list in order}
    missing: set[int] = set()
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join([part] * len(order)), params)
        for position, slot in cursor.fetchall():
            if slot is None:
                missing.add(position)
            else:
                slots[order[position].pk].append(slot)
    for position in missing:
        _create_sequence(order[position])
        slots.update(_next_slots({order[position]: wanted[order[position]]}))
    return slots


def _insert_entries(
    entries: list[tuple[uuid.UUID, StatusList, int]],
) -> list[tuple[uuid.UUID, StatusList, int]]:
    """Insert the entries (award id, list, index) in one statement; returns those that
    landed. The database skips one whose index is taken (``ON CONFLICT DO NOTHING``)."""
    if not entries:
        return []
    table = connection.ops.quote_name(StatusEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(  # nosemgrep: raw-sql-string-formatting - see the next line
            f"INSERT INTO {table} (award_id, status_list_id, purpose, index) "  # nosec B608  # noqa: S608 - our table
            "SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::text[], %s::integer[]) "
            "ON CONFLICT DO NOTHING RETURNING award_id, status_list_id",
            [
                [award_id for award_id, _list, _index in entries],
                [status_list.pk for _award, status_list, _index in entries],
                [status_list.purpose for _award, status_list, _index in entries],
                [index for _award, _list, index in entries],
            ],
        )
        landed = set(cursor.fetchall())
    return [entry for entry in entries if (entry[0], entry[1].pk) in landed]


def _allocate_probing(
    *, issuer: Issuer, award_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ob3.StatusEntry]:
    """SQLite (one writer at a time): random distinct indexes inserted with
    ``ON CONFLICT DO NOTHING``, read back, and drawn again for the awards whose index was
    taken; the list's entries are counted now and then to find it full."""
    carried: dict[uuid.UUID, ob3.StatusEntry] = {}
    for purpose in _PURPOSES:
        remaining = list(award_ids)
        draws = 0
        status_list = _open_list(issuer, purpose)
        while remaining:
            room = status_list.capacity - (
                StatusEntry.objects.filter(status_list=status_list).count()
                if draws or len(remaining) * 64 > status_list.capacity
                else 0
            )
            if room <= 0 or draws >= _MAX_DRAWS:
                StatusList.objects.filter(pk=status_list.pk).update(is_full=True)
                status_list, draws = _open_list(issuer, purpose), 0
                continue
            taking, remaining = remaining[:room], remaining[room:]
            landed = _draw_many(status_list, taking)
            remaining = [a for a in taking if a not in landed] + remaining
            draws += 1
            if purpose == CARRIED_PURPOSE:
                url = list_url(status_list.pk)
                for award_id, index in landed.items():
                    carried[award_id] = ob3.StatusEntry(
                        status_list_credential=url,
                        status_list_index=index,
                        status_purpose=purpose,
                    )
        if draws > 1 or not secrets.randbelow(max(1, 256 // max(1, len(award_ids)))):
            _check_full(status_list, collided=True)
    return carried


def _draw_many(status_list: StatusList, award_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """SQLite: insert one entry at a random index for each award; returns the ones that
    landed (award id → index). An index already taken is skipped by the database
    (``ignore_conflicts``) and drawn again by the caller."""
    indexes = _random.sample(range(status_list.length), len(award_ids))
    StatusEntry.objects.bulk_create(
        (
            StatusEntry(
                award_id=award_id,
                status_list=status_list,
                purpose=status_list.purpose,
                index=index,
            )
            for award_id, index in zip(award_ids, indexes, strict=True)
        ),
        ignore_conflicts=True,
    )
    return dict(
        StatusEntry.objects.filter(
            status_list=status_list, award_id__in=award_ids, purpose=status_list.purpose
        ).values_list("award_id", "index")
    )
