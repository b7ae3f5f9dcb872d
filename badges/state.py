"""The live state of an award: valid, expired, revoked or suspended, computed on each call.

``award_state(award)`` is the one place the public badge page, the OB 2.0 hosted assertion
and the verifier ask "is this badge still good?". Expiry comes from the award's
``valid_until`` (OB 3.0 ``validUntil``); revocation and suspension are added by the status
list work without changing this signature.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from badges.credentials import credential_url
from badges.models import Award, AwardStatus

#: A valid badge this close to its ``validUntil`` is shown as "expires soon".
EXPIRING_SOON = dt.timedelta(days=30)
_UUID_RE = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.I)


class State(enum.StrEnum):
    """What a person checking the badge is told, most severe last."""

    VALID = "valid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


STATE_LABELS = {
    State.VALID: _("Valid"),
    State.EXPIRED: _("Expired"),
    State.SUSPENDED: _("Suspended"),
    State.REVOKED: _("Revoked"),
}


@dataclass(frozen=True)
class AwardState:
    """The state of one award at ``checked_at``.

    ``reason`` is the issuer's public reason (revocation/suspension), empty otherwise;
    ``since`` is when the state began (expiry time, revocation time), ``None`` for valid.
    """

    state: State
    reason: str = ""
    since: dt.datetime | None = None
    checked_at: dt.datetime | None = None
    # When the badge expires (``validUntil``), for "expires soon" notices.
    valid_until: dt.datetime | None = None

    @property
    def is_valid(self) -> bool:
        return self.state is State.VALID

    @property
    def is_revoked(self) -> bool:
        return self.state is State.REVOKED

    @property
    def is_suspended(self) -> bool:
        return self.state is State.SUSPENDED

    @property
    def is_expired(self) -> bool:
        return self.state is State.EXPIRED

    @property
    def expiring_soon(self) -> bool:
        """Valid now, but expiring within :data:`EXPIRING_SOON`."""
        return (
            self.state is State.VALID
            and self.valid_until is not None
            and self.checked_at is not None
            and self.valid_until - self.checked_at <= EXPIRING_SOON
        )

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


def award_state(award: Award, *, now: dt.datetime | None = None) -> AwardState:
    """The award's state now (or at ``now``): revoked or suspended as its issuer decided
    (``awarding.services``, read from the row, so never behind the database), else expired once
    ``valid_until`` has passed, else valid. Revocation outranks suspension outranks expiry."""
    checked_at = now or timezone.now()
    until = award.valid_until
    if award.status == AwardStatus.REVOKED:
        return AwardState(
            State.REVOKED,
            reason=award.status_reason,
            since=award.status_changed_at,
            checked_at=checked_at,
            valid_until=until,
        )
    if award.status == AwardStatus.SUSPENDED:
        return AwardState(
            State.SUSPENDED,
            reason=award.status_reason,
            since=award.status_changed_at,
            checked_at=checked_at,
            valid_until=until,
        )
    if until is not None and until <= checked_at:
        return AwardState(State.EXPIRED, since=until, checked_at=checked_at, valid_until=until)
    return AwardState(State.VALID, checked_at=checked_at, valid_until=until)


def award_state_for_credential(credential_id: str) -> AwardState | None:
    """The current state of the award behind a credential issued here, read fresh from the
    database (for this platform's verifier: never stale, no status-list fetch).

    ``credential_id`` is the credential's ``id`` as written in it
    (``<INSIGNIA_BASE_URL>/credentials/<uuid>``), ``urn:uuid:<uuid>`` or the bare uuid. None when
    it names no award of this platform.
    """
    credential_id = (credential_id or "").strip()
    ours = credential_url(uuid.UUID(int=0)).rsplit("/", 1)[0] + "/"
    if "://" in credential_id and not credential_id.startswith(ours):
        return None  # another origin's credential: its issuer's lists decide, not our rows
    match = _UUID_RE.search(credential_id)
    if match is None:
        return None
    award = (
        Award.objects.only("pk", "status", "status_reason", "status_changed_at", "valid_until")
        .filter(pk=uuid.UUID(match.group(1)))
        .first()
    )
    return award_state(award) if award is not None else None
