"""Status-list serving: the bits kept current with every status change, the signed list kept
current with the bits.

Bitstring Status List v1.0 §2.2 and §3.1, research §4.1, security §1.9. Three steps, each
cheap:

1. **In the status change's own transaction** (:func:`mark_changed`, called by
   ``badges.services.set_status``): the changed awards' bits are set or cleared in each list's
   stored ``bits`` (from the awards' new status, ``BIT_STATUSES``) and the list's ``version``
   is bumped, under the list row's lock. A few queries, whatever the list's size.
2. **After that transaction commits**: a task (``badges.statuslists.tasks.sign_lists``)
   compresses and signs each changed list, so requests normally find it signed already.
3. **On a request** (:func:`current_list_credential`): the stored signed list is served if its
   ``signed_version`` is the list's ``version``; otherwise (the task has not run yet, or
   failed) it is compressed and signed from the stored bits first, a few milliseconds with no
   per-entry work. So the origin never serves a list that misses a committed change, and a
   cache in front holds it for at most its ``ttl``.

Before the bits were stored, every first request after a change recomputed them from the
awards (one probe per entry: 350-460 ms for a full list). :func:`repair_bits` still does that,
for checks and to repair a list; a list whose ``bits`` is NULL (not known) is computed that
way once, on first use.

Writes lock a list row with ``FOR NO KEY UPDATE``: it serialises the changes of one list, yet
lets awards insert their entries (whose foreign-key checks take ``KEY SHARE`` on the list) while
a list is being changed or signed.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

from django.db import transaction
from django.db.models import BinaryField, Case, F, Q, Value, When
from django.http import Http404
from django.utils import timezone

from badges.models import StatusEntry, StatusList, StatusPurpose
from badges.statuslists.selectors import (
    BIT_STATUSES,
    RESIGN_AFTER,
    TTL_SECONDS,
    VALID_FOR,
    bitstring,
    is_current,
    list_url,
)
from issuers import keys
from issuers import services as issuer_services
from issuers.models import KeyStatus
from openbadges import statuslist

logger = logging.getLogger(__name__)


class StatusListUnavailable(Exception):
    """The list cannot be (re)signed now (no key-encryption key, no usable key)."""


def _locked(status_list_ids: Iterable[uuid.UUID]) -> list[StatusList]:
    # One lock order (by id) for every writer, so two transactions changing the same lists
    # cannot deadlock on them.
    return list(
        StatusList.objects.select_for_update(no_key=True)
        .filter(pk__in=list(status_list_ids))
        .only("pk", "purpose", "length", "bits")
        .order_by("pk")
    )


def _bits_now(status_list: StatusList) -> bytearray:
    """The list's bits as stored, padded to its length, or computed from the entries if not
    known (NULL). Call with the list row locked, so no change lands between reading and
    writing them back."""
    if status_list.bits is None:
        return bitstring(status_list)
    size = status_list.length // 8
    stored = bytes(status_list.bits)
    if len(stored) > size:
        raise ValueError(f"status list {status_list.pk} stores more bits than its length")
    return bytearray(stored.ljust(size, b"\0"))


def mark_changed(award_ids: Iterable[uuid.UUID]) -> None:
    """Set or clear the bits of these awards in every list holding them, from their status
    now, and bump those lists' ``version``; call in the status change's transaction, after the
    awards' ``status`` is written. Once it commits, a task signs the changed lists.

    Three queries whatever the number of awards: their entries, the lists locked, and one
    ``UPDATE`` of all of them.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("mark_changed must run in the status change's transaction")
    entries = StatusEntry.objects.filter(award_id__in=list(award_ids)).values_list(
        "status_list_id", "index", "purpose", "award__status"
    )
    changes: dict[uuid.UUID, list[tuple[int, bool]]] = {}
    for list_id, index, purpose, status in entries:
        changes.setdefault(list_id, []).append(
            (index, status in BIT_STATUSES[StatusPurpose(purpose)])
        )
    if not changes:
        return
    new_bits: dict[uuid.UUID, bytes] = {}
    for status_list in _locked(changes):
        bits = _bits_now(status_list)
        for index, value in changes[status_list.pk]:
            statuslist.set_bit(bits, index, value)
        new_bits[status_list.pk] = bytes(bits)
    StatusList.objects.filter(pk__in=list(new_bits)).update(
        bits=Case(
            *(
                When(pk=pk, then=Value(bits, output_field=BinaryField()))
                for pk, bits in new_bits.items()
            ),
            output_field=BinaryField(),
        ),
        version=F("version") + 1,
    )
    ids = [str(pk) for pk in sorted(new_bits)]
    transaction.on_commit(lambda: _enqueue_signing(ids), robust=True)


def set_holder_bit(holder: uuid.UUID, *, at: datetime) -> None:
    """Set for good the bit of each entry held by ``holder`` (a credential that is not an
    award: an endorsement withdrawn) and bump those lists' ``version``, in the caller's
    transaction; once it commits, a task signs the changed lists, as for awards."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("set_holder_bit must run in the change's transaction")
    entries = list(StatusEntry.objects.filter(holder=holder).values_list("status_list_id", "index"))
    if not entries:
        return
    StatusEntry.objects.filter(holder=holder, set_at__isnull=True).update(set_at=at)
    for status_list in _locked({list_id for list_id, _index in entries}):
        bits = _bits_now(status_list)
        for list_id, index in entries:
            if list_id == status_list.pk:
                statuslist.set_bit(bits, index)
        StatusList.objects.filter(pk=status_list.pk).update(
            bits=bytes(bits), version=F("version") + 1
        )
    ids = sorted({str(list_id) for list_id, _index in entries})
    transaction.on_commit(lambda: _enqueue_signing(ids), robust=True)


def _enqueue_signing(status_list_ids: list[str]) -> None:
    from badges.statuslists import tasks

    tasks.sign_lists.delay(status_list_ids)


@transaction.atomic
def repair_bits(status_list_id: uuid.UUID) -> bool:
    """Recompute the list's bits from its entries and the awards' status, one probe per entry
    (the way every request did before the bits were stored), and store them if they differ;
    returns whether they did. For checks, and for a list changed behind the services' back
    (a restore, a hand-made seed)."""
    found = _locked([status_list_id])
    if not found:
        raise StatusList.DoesNotExist(status_list_id)
    status_list = found[0]
    fresh = bytes(bitstring(status_list))
    stored = status_list.bits
    if stored is not None and bytes(stored).ljust(len(fresh), b"\0") == fresh:
        return False
    StatusList.objects.filter(pk=status_list.pk).update(bits=fresh, version=F("version") + 1)
    transaction.on_commit(lambda: _enqueue_signing([str(status_list_id)]), robust=True)
    return True


def _fresh(status_list: StatusList, signed_after: datetime | None) -> bool:
    return is_current(status_list) and (
        signed_after is None
        or (status_list.signed_at is not None and status_list.signed_at >= signed_after)
    )


@transaction.atomic
def _rebuild(status_list_id: uuid.UUID, *, signed_after: datetime | None = None) -> StatusList:
    """Compress and sign the list's stored bits, unless someone did while we waited for the
    lock (and after ``signed_after``). No per-entry work (unless the bits are not known yet:
    see :func:`_bits_now`)."""
    status_list = (
        StatusList.objects.select_for_update(of=("self",), no_key=True)
        .select_related("issuer", "signed_with")
        .get(pk=status_list_id)
    )
    if _fresh(status_list, signed_after):
        return status_list
    issuer = status_list.issuer
    now = timezone.now().replace(microsecond=0)
    bits = _bits_now(status_list)
    try:
        keys.check_kek()
        key = status_list.signed_with
        if key is None or key.status != KeyStatus.ACTIVE:  # first signing, or rotated since
            key = issuer_services.active_key(issuer)
        key.issuer = issuer  # its did:web names the issuer: no second read of the row
        unsigned = statuslist.build_status_list_credential(
            statuslist.StatusListCredential(
                id=list_url(status_list.pk),
                issuer=keys.issuer_did(issuer),
                status_purpose=status_list.purpose,
                encoded_list=statuslist.encode(bits),
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
    fields = ["signed_json", "signed_version", "signed_at", "signed_with"]
    if status_list.bits is None:  # computed from the entries just now: keep them
        status_list.bits = bytes(bits)
        fields.append("bits")
    status_list.save(update_fields=fields)
    return status_list


def _served(status_list_id: uuid.UUID) -> StatusList | None:
    # The stored bits are not read to serve a list (16 KiB a request): only to sign it.
    return (
        StatusList.objects.select_related("signed_with")
        .defer("bits")
        .filter(pk=status_list_id)
        .first()
    )


def current_list_credential(status_list_id: uuid.UUID) -> str:
    """The signed list credential's JSON text, signed again first if any change is missing
    from it (or it is old, or its key was withdrawn).

    Raises ``Http404`` for an unknown list and :class:`StatusListUnavailable` when it must be
    signed again and cannot be (never an outdated list instead).
    """
    status_list = _served(status_list_id)
    if status_list is None:
        raise Http404
    if not is_current(status_list):
        status_list = _rebuild(status_list.pk)
    return status_list.signed_json


def sign_lists(
    status_list_ids: Iterable[uuid.UUID], *, signed_after: datetime | None = None
) -> int:
    """Sign each of these lists that is behind its bits (the task after a change commits) or
    was signed before ``signed_after``; returns how many were signed. A list that cannot be
    signed now is left for the request path, which answers 503 rather than an outdated
    list."""
    signed = 0
    for status_list_id in status_list_ids:
        status_list = _served(status_list_id)
        if status_list is None or _fresh(status_list, signed_after):
            continue
        try:
            _rebuild(status_list_id, signed_after=signed_after)
        except StatusListUnavailable as error:
            logger.warning("status list %s not signed: %s", status_list_id, error)
            continue
        signed += 1
    return signed


#: The beat task signs a list this long before a request would have to.
SIGN_AHEAD: Final = timedelta(hours=1)


def sign_due_lists(*, limit: int = 1000) -> int:
    """Sign the lists a request would otherwise sign: behind their bits, signed more than
    ``RESIGN_AFTER`` minus :data:`SIGN_AHEAD` ago, or with a withdrawn key (the hourly beat
    task); returns how many were signed, at most ``limit`` a run, oldest first."""
    due = timezone.now() - (RESIGN_AFTER - SIGN_AHEAD)
    ids = (
        StatusList.objects.filter(
            Q(signed_at__isnull=True)
            | Q(signed_at__lt=due)
            | ~Q(signed_version=F("version"))
            | Q(signed_with__status=KeyStatus.WITHDRAWN)
        )
        .order_by(F("signed_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sign_lists(list(ids), signed_after=due)
