"""Every write that changes an award's status: revoke, suspend, reinstate, revoke many at
once, and revoke a pathway credential after review.

Revocation is final (Bitstring Status List v1.0 §2.1); a suspension is lifted by
reinstating. Each checks the actor's role (owners and editors of the award's issuer;
``actor=None`` is a platform operator at the command line), then ``badges.services.set_status``
records the change (status events, audit, status lists, the learner's e-mail), and pathway
completions that counted a revoked or suspended award are flagged for review in the same
transaction (``frameworks``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import services as badge_services
from badges.models import Award, AwardStatus, StatusAction
from frameworks.models import PathwayCompletion
from frameworks.pathways import services as pathway_services
from issuers.models import Role
from issuers.permissions import has_role

MAX_REASON: Final = 1000
#: A bulk revocation touches at most this many awards in one transaction.
MAX_BULK: Final = 10_000


def can_change_status(user: User, award: Award) -> bool:
    """Whether ``user`` may revoke, suspend or reinstate ``award``: owners and editors."""
    return has_role(user, award.issuer.institution, Role.EDITOR, award.issuer)


def _reason(reason: str, *, required: bool) -> str:
    reason = " ".join(reason.split())
    if required and not reason:
        raise ValidationError({"reason": _("Give a reason: the learner and verifiers see it.")})
    if len(reason) > MAX_REASON:
        raise ValidationError(
            {"reason": _("Keep the reason under %(n)s characters.") % {"n": MAX_REASON}}
        )
    return reason


def _apply(
    *,
    awards: Sequence[Award],
    actor: User | None,
    status: str,
    action: StatusAction,
    reason: str,
    via: str,
    notify_earner: bool,
    batch: uuid.UUID | None = None,
    client: str = "",
) -> None:
    now = timezone.now()
    badge_services.set_status(
        awards=awards,
        actor=actor,
        status=status,
        action=action,
        reason=reason,
        via=via,
        notify_earner=notify_earner,
        at=now,
        batch=batch,
        client=client,
    )
    if action in (StatusAction.REVOKED, StatusAction.SUSPENDED):
        # Pathway completions that counted these awards are flagged for review in this same
        # transaction: stored with the change, never computed on read.
        pathway_services.flag_counted_awards(awards=awards, action=action, reason=reason, at=now)


def _change(
    *,
    actor: User | None,
    award: Award,
    status: str,
    allowed_from: Iterable[str],
    action: StatusAction,
    reason: str,
    via: str,
    notify_earner: bool,
    refusal: str,
    client: str = "",
) -> Award:
    if actor is not None and not can_change_status(actor, award):
        raise PermissionDenied
    award = badge_services.lock_award(award)
    if award.status not in allowed_from:
        raise ValidationError(refusal)
    _apply(
        awards=[award],
        actor=actor,
        status=status,
        action=action,
        reason=reason,
        via=via,
        notify_earner=notify_earner,
        client=client,
    )
    return award


@transaction.atomic
def revoke_award(
    *,
    actor: User | None,
    award: Award,
    reason: str,
    notify_earner: bool = False,
    via: str = "console",
    client: str = "",
) -> Award:
    """Revoke ``award`` for good, with a reason shown to the learner and to verifiers: its bit
    in the issuer's revocation list is set. A suspended award can be revoked. Owners and
    editors. Raises ``ValidationError`` if it is already revoked."""
    return _change(
        actor=actor,
        award=award,
        status=AwardStatus.REVOKED,
        allowed_from=(AwardStatus.ACTIVE, AwardStatus.SUSPENDED),
        action=StatusAction.REVOKED,
        reason=_reason(reason, required=True),
        via=via,
        notify_earner=notify_earner,
        refusal=_("This badge has already been revoked."),
        client=client,
    )


@transaction.atomic
def suspend_award(
    *,
    actor: User | None,
    award: Award,
    reason: str,
    notify_earner: bool = False,
    via: str = "console",
    client: str = "",
) -> Award:
    """Suspend ``award`` until it is reinstated (its bit in the suspension list is set).
    Owners and editors. Only an active award can be suspended."""
    return _change(
        actor=actor,
        award=award,
        status=AwardStatus.SUSPENDED,
        allowed_from=(AwardStatus.ACTIVE,),
        action=StatusAction.SUSPENDED,
        reason=_reason(reason, required=True),
        via=via,
        notify_earner=notify_earner,
        refusal=_("Only an active badge can be suspended."),
        client=client,
    )


@transaction.atomic
def reinstate_award(
    *,
    actor: User | None,
    award: Award,
    reason: str = "",
    notify_earner: bool = False,
    via: str = "console",
    client: str = "",
) -> Award:
    """Lift a suspension: the award is valid again (unless it has expired meanwhile). Owners
    and editors. A revoked award cannot be reinstated."""
    return _change(
        actor=actor,
        award=award,
        status=AwardStatus.ACTIVE,
        allowed_from=(AwardStatus.SUSPENDED,),
        action=StatusAction.REINSTATED,
        reason=_reason(reason, required=False),
        via=via,
        notify_earner=notify_earner,
        refusal=_("Only a suspended badge can be reinstated."),
        client=client,
    )


@dataclass(frozen=True)
class BulkResult:
    """What a bulk revocation did: how many were revoked, how many were already revoked."""

    batch: uuid.UUID
    revoked: int
    already_revoked: int


class CountChanged(Exception):
    """A bulk revocation matched another number of awards than the caller confirmed."""

    def __init__(self, found: int) -> None:
        super().__init__(found)
        self.found = found


@transaction.atomic
def bulk_revoke(
    *,
    actor: User | None,
    awards: QuerySet[Award],
    reason: str,
    notify_earner: bool = False,
    via: str = "bulk",
    client: str = "",
    expected: int | None = None,
) -> BulkResult:
    """Revoke every award in ``awards`` (a selection, one achievement, a date range, an
    uploaded list: ``badges.selectors.awards_matching``) in one transaction, with one reason
    and one batch id. Owners and editors of every issuer involved: if the actor lacks the role
    for any of them, nothing is revoked. At most :data:`MAX_BULK` awards at once. With
    ``expected``, the number of awards matched once they are locked must be that, else
    :class:`CountChanged` and nothing is revoked."""
    reason = _reason(reason, required=True)
    rows = list(
        awards.select_for_update(of=("self",))
        .select_related("issuer__institution", "achievement_version")
        .order_by("pk")[: MAX_BULK + 1]
    )
    if expected is not None and len(rows) != expected:
        raise CountChanged(len(rows))
    if len(rows) > MAX_BULK:
        raise ValidationError(
            _("At most %(n)s badges can be revoked at once; narrow the selection.")
            % {"n": MAX_BULK}
        )
    for issuer in {award.issuer for award in rows}:
        if actor is not None and not has_role(actor, issuer.institution, Role.EDITOR, issuer):
            raise PermissionDenied
    to_revoke = [award for award in rows if award.status != AwardStatus.REVOKED]
    batch = uuid.uuid4()
    if to_revoke:
        _apply(
            awards=to_revoke,
            actor=actor,
            status=AwardStatus.REVOKED,
            action=StatusAction.REVOKED,
            reason=reason,
            via=via,
            notify_earner=notify_earner,
            batch=batch,
            client=client,
        )
    return BulkResult(
        batch=batch, revoked=len(to_revoke), already_revoked=len(rows) - len(to_revoke)
    )


_BULK_CHANGES: Final = {
    "suspend": (AwardStatus.ACTIVE, AwardStatus.SUSPENDED, StatusAction.SUSPENDED, True),
    "reinstate": (AwardStatus.SUSPENDED, AwardStatus.ACTIVE, StatusAction.REINSTATED, False),
}


@transaction.atomic
def bulk_change_status(
    *,
    actor: User | None,
    awards: QuerySet[Award],
    action: str,
    reason: str,
    notify_earner: bool = False,
    via: str = "bulk",
    expected: int | None = None,
) -> int:
    """Suspend (``action="suspend"``) the active awards among ``awards``, or reinstate
    (``"reinstate"``) the suspended ones, in one transaction with one reason and batch id, as
    :func:`bulk_revoke` revokes: owners and editors of every issuer involved, at most
    :data:`MAX_BULK`, and with ``expected`` the number of awards locked must be that, else
    :class:`CountChanged` and nothing changes. Returns how many changed."""
    allowed_from, status, status_action, reason_required = _BULK_CHANGES[action]
    reason = _reason(reason, required=reason_required)
    rows = list(
        awards.select_for_update(of=("self",))
        .select_related("issuer__institution", "achievement_version")
        .order_by("pk")[: MAX_BULK + 1]
    )
    if expected is not None and len(rows) != expected:
        raise CountChanged(len(rows))
    if len(rows) > MAX_BULK:
        raise ValidationError(
            _("At most %(n)s badges can be changed at once; narrow the selection.")
            % {"n": MAX_BULK}
        )
    for issuer in {award.issuer for award in rows}:
        if actor is not None and not has_role(actor, issuer.institution, Role.EDITOR, issuer):
            raise PermissionDenied
    changing = [award for award in rows if award.status == allowed_from]
    if changing:
        _apply(
            awards=changing,
            actor=actor,
            status=status,
            action=status_action,
            reason=reason,
            via=via,
            notify_earner=notify_earner,
            batch=uuid.uuid4(),
        )
    return len(changing)


@transaction.atomic(durable=True)
def revoke_pathway_credential(
    *, actor: User, completion: PathwayCompletion, reason: str, notify_earner: bool = True
) -> None:
    """Staff reviewed a flagged pathway completion and revoke the pathway credential, with a
    reason shown to the learner and verifiers. Editors and owners."""
    locked = pathway_services.take_flagged(actor=actor, completion=completion)
    if locked.award.status == AwardStatus.REVOKED:
        raise ValidationError(_("This pathway credential has already been revoked."))
    revoke_award(actor=actor, award=locked.award, reason=reason, notify_earner=notify_earner)
    pathway_services.record_review(
        completion=locked, actor=actor, outcome="revoked", note=" ".join(reason.split())[:2000]
    )
