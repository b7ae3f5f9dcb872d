"""Status-list reads: list URLs, an award's entries, a list's bits computed from scratch, and
whether the stored signed list is current."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, Final

from django.urls import reverse
from django.utils import timezone

from badges import credentials
from badges.models import AwardStatus, StatusEntry, StatusList, StatusPurpose
from issuers.models import KeyStatus
from openbadges import ob3, statuslist

#: ``ttl`` of every list (ms in the credential) and ``Cache-Control: max-age`` (s): a change
#: reaches every cache-respecting verifier within a minute.
TTL_SECONDS: Final = 60
#: A signed list is valid for a day and re-signed after half of it, so an old copy cannot be
#: replayed for long as "the current list".
VALID_FOR: Final = timedelta(days=1)
RESIGN_AFTER: Final = timedelta(hours=12)
# Which award statuses set the bit of an entry in a list of each purpose. The suspension bit
# means "not to be accepted now": set while suspended, and for good once revoked, because it
# is the entry credentials carry (``CARRIED_PURPOSE``, docs/status-lists.md). Bitstring Status
# List v1.0 §2.1 lets a suspension stay set; a revocation bit is never cleared.
BIT_STATUSES: Final = {
    StatusPurpose.REVOCATION: (AwardStatus.REVOKED,),
    StatusPurpose.SUSPENSION: (AwardStatus.SUSPENDED, AwardStatus.REVOKED),
}
#: The one ``credentialStatus`` entry a newly signed credential carries. The OB 3.0 schema
#: allows a single object, and every Bitstring Status List verifier reads a ``suspension``
#: bit, so this entry makes both suspension and revocation visible to independent verifiers
#: (issue 18 5a). Credentials signed before carry their revocation entry.
CARRIED_PURPOSE: Final = StatusPurpose.SUSPENSION


def list_url(status_list_id: uuid.UUID | str) -> str:
    """The list credential's URL: its ``id`` and every entry's ``statusListCredential``."""
    return credentials.absolute(reverse("status_list", args=[status_list_id]))


def status_entries_json(award_id: uuid.UUID) -> list[dict[str, Any]]:
    """Both ``BitstringStatusListEntry`` objects of an award, revocation first.

    A credential carries one of them (one ``credentialStatus`` object, as the OB 3.0 schema
    wants): the suspension entry since issue 18, the revocation entry before. This is how a
    verifier tells a revocation from a suspension, or finds the suspension entry of an older
    credential.
    """
    entries = StatusEntry.objects.filter(award_id=award_id).order_by("purpose")
    return [
        ob3.status_json(
            ob3.StatusEntry(
                status_list_credential=list_url(entry.status_list_id),
                status_list_index=entry.index,
                status_purpose=entry.purpose,
            )
        )
        for entry in entries
    ]


def bitstring(status_list: StatusList) -> bytearray:
    """The list's bits computed from scratch: 1 where the award's status sets a bit of this
    list's purpose. One probe of the awards per entry (about 400 ms for a full list), so it is
    not on the request path: the served list is signed from the bits kept in
    ``StatusList.bits`` (``badges.statuslists.serving``); this is the reference they are
    checked against, and how a list whose bits are not known is filled or repaired."""
    bits = statuslist.new_bitstring(status_list.length)
    indexes = StatusEntry.objects.filter(
        status_list=status_list,
        award__status__in=BIT_STATUSES[StatusPurpose(status_list.purpose)],
    ).values_list("index", flat=True)
    for index in indexes:
        statuslist.set_bit(bits, index)
    # Entries held by other credentials (endorsements) keep their own bit.
    held = StatusEntry.objects.filter(
        status_list=status_list, award__isnull=True, set_at__isnull=False
    ).values_list("index", flat=True)
    for index in held:
        statuslist.set_bit(bits, index)
    return bits


def is_current(status_list: StatusList) -> bool:
    """Whether the stored signed list has every change, is fresh and its key still valid."""
    now = timezone.now()
    return (
        status_list.signed_version == status_list.version
        and status_list.signed_at is not None
        and now - status_list.signed_at < RESIGN_AFTER
        and status_list.signed_with is not None
        and status_list.signed_with.status != KeyStatus.WITHDRAWN
    )
