"""Status-list writes: an index for every new award, and the signed lists kept current.

Allocation (DESIGN.md §4, research security §3.2 item 4): in the awards' own transaction, one
entry at a random index (herd privacy, Bitstring Status List v1.0 §5.1) in the issuer's open
revocation list and one in its open suspension list. ``UNIQUE (status_list, index)`` decides
every race: an index taken by a parallel chunk is skipped by the database and drawn again.
Nothing locks a list row while awarding, so parallel awards do not queue behind each other.

Serving (Bitstring Status List §2.2, research §4.1, security §1.9): every status change bumps
the list's ``version`` in the same transaction as the change; a request that finds the stored
list older than the current version rebuilds and re-signs it first
(:func:`current_list_credential`), so the origin never serves a list that misses a committed
change.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Sequence
from typing import Final

from django.db import connection, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from badges.models import StatusEntry, StatusList, StatusPurpose
from badges.statuslists.selectors import (
    CARRIED_PURPOSE,
    TTL_SECONDS,
    VALID_FOR,
    bitstring,
    is_current,
    list_url,
)
from issuers import keys
from issuers import services as issuer_services
from issuers.models import Issuer
from openbadges import ob3, statuslist

_MAX_DRAWS: Final = 32
_random = secrets.SystemRandom()


class StatusListUnavailable(Exception):
    """The list cannot be (re)signed now (no key-encryption key, no usable key)."""


def _open_list(issuer: Issuer, purpose: str) -> StatusList:
    found = (
        StatusList.objects.filter(issuer=issuer, purpose=purpose, is_full=False)
        .order_by("created_at", "pk")
        .first()
    )
    if found is not None:
        return found
    # Creating a list is rare: serialise it on the issuer row so two awards do not open two.
    Issuer.objects.select_for_update().filter(pk=issuer.pk).first()
    found = StatusList.objects.filter(issuer=issuer, purpose=purpose, is_full=False).first()
    return found or StatusList.objects.create(issuer=issuer, purpose=purpose)


@transaction.atomic
def open_lists(issuer: Issuer) -> None:
    """Make sure the issuer has an open list of each purpose (before a bulk batch starts)."""
    for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION):
        _open_list(issuer, purpose)


def _check_full(status_list: StatusList, collided: bool) -> None:
    # Counting 100,000 rows on every award would cost more than the award, so count when a
    # draw collided (the list is filling up) or on a random 1 in ``capacity // 64`` awards;
    # the room between capacity and length absorbs the overshoot.
    every = max(1, min(256, status_list.capacity // 64))
    if not collided and secrets.randbelow(every):
        return
    if StatusEntry.objects.filter(status_list=status_list).count() >= status_list.capacity:
        StatusList.objects.filter(pk=status_list.pk).update(is_full=True)


def allocate_many(
    *, issuer: Issuer, award_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ob3.StatusEntry]:
    """Give each award about to be created its entries in the issuer's revocation and
    suspension lists: a few queries per list, whatever the number of awards; returns each
    award's entry of :data:`CARRIED_PURPOSE` (suspension) for its ``credentialStatus``. Call
    inside the awards' transaction, before signing (the entries reference the awards' ids
    before their rows exist: foreign keys are checked at commit).

    Random distinct indexes are inserted with ``ON CONFLICT DO NOTHING``; the entries that
    landed are read back and only the awards whose index was taken (by a parallel chunk or an
    earlier award) draw again, so parallel chunks never wait on each other or roll back.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("allocate_many must run inside the awards' transaction")
    carried: dict[uuid.UUID, ob3.StatusEntry] = {}
    for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION):
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
    """Insert one entry at a random free-looking index for each award; returns the ones that
    landed (award id → index). An index already taken, by an earlier award or a parallel
    chunk, is skipped by the database (``ON CONFLICT DO NOTHING``) and drawn again."""
    indexes = _random.sample(range(status_list.length), len(award_ids))
    if connection.vendor == "postgresql":
        # One statement that says which rows landed, instead of an insert and a read-back.
        table = connection.ops.quote_name(StatusEntry._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(  # nosemgrep: raw-sql-string-formatting - see the next line
                f"INSERT INTO {table} (award_id, status_list_id, purpose, index) "  # nosec B608  # noqa: S608 - our table
                "SELECT a, %s, %s, i FROM unnest(%s::uuid[], %s::integer[]) AS t(a, i) "
                "ON CONFLICT DO NOTHING RETURNING award_id, index",
                [status_list.pk, status_list.purpose, list(award_ids), indexes],
            )
            return dict(cursor.fetchall())
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


def mark_changed(award_ids: Iterable[uuid.UUID]) -> None:
    """Bump the version of every list holding one of these awards (in the caller's
    transaction), so the next request for those lists rebuilds them."""
    list_ids = (
        StatusEntry.objects.filter(award_id__in=list(award_ids))
        .values_list("status_list_id", flat=True)
        .distinct()
    )
    StatusList.objects.filter(pk__in=list(list_ids)).update(version=F("version") + 1)


@transaction.atomic
def _rebuild(status_list_id: uuid.UUID) -> StatusList:
    status_list = (
        StatusList.objects.select_for_update(of=("self",))
        .select_related("issuer", "signed_with")
        .get(pk=status_list_id)
    )
    if is_current(status_list):  # someone else rebuilt it while we waited
        return status_list
    issuer = status_list.issuer
    now = timezone.now().replace(microsecond=0)
    try:
        key = issuer_services.active_key(issuer)
        unsigned = statuslist.build_status_list_credential(
            statuslist.StatusListCredential(
                id=list_url(status_list.pk),
                issuer=keys.issuer_did(issuer),
                status_purpose=status_list.purpose,
                encoded_list=statuslist.encode(bitstring(status_list)),
                valid_from=now,
                valid_until=now + VALID_FOR,
                ttl_ms=TTL_SECONDS * 1000,
            )
        )
        signed = keys.sign_credential(unsigned, key=key, created=now)
    except keys.SigningUnavailable as error:
        raise StatusListUnavailable(str(error)) from error
    status_list.signed_json = json.dumps(signed, ensure_ascii=False)
    status_list.signed_version = status_list.version
    status_list.signed_at = now
    status_list.signed_with = key
    status_list.save(update_fields=["signed_json", "signed_version", "signed_at", "signed_with"])
    return status_list


def current_list_credential(status_list_id: uuid.UUID) -> str:
    """The signed list credential's JSON text, rebuilt first if any change is missing from it.

    Raises ``Http404`` for an unknown list and :class:`StatusListUnavailable` when it must be
    rebuilt and cannot be signed (never an outdated list instead).
    """
    status_list = StatusList.objects.select_related("signed_with").filter(pk=status_list_id).first()
    if status_list is None:
        raise Http404
    if not is_current(status_list):
        status_list = _rebuild(status_list.pk)
    return status_list.signed_json
