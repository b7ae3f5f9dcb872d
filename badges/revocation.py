"""Revoke, suspend, reinstate and re-issue awards (issue #6; MISSION.md issuer need 8).

Every function is one atomic write that checks the actor's role (owners and editors of the
award's issuer; ``actor=None`` is a platform operator at the command line), appends an
``AwardStatusEvent`` and an institution ``AuditEvent`` (who, when, why, what), and bumps the
version of the status lists holding the award, so the served lists, the badge page and this
platform's verifier all see the change as soon as it commits (``badges.status``).

Revocation is final (Bitstring Status List v1.0 §2.1: "revocation ... not reversible");
suspension is lifted by reinstating.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import services, status
from badges.models import (
    Achievement,
    Award,
    AwardStatus,
    AwardStatusEvent,
    StatusAction,
)
from insignia.mail import send_templated_mail
from issuers.models import AuditEvent, Institution, Issuer, Role
from issuers.permissions import has_role

MAX_REASON: Final = 1000
#: A bulk revocation touches at most this many awards in one transaction.
MAX_BULK: Final = 10_000
_UUID_RE: Final = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})", re.I
)


def can_change_status(user: User, award: Award) -> bool:
    """Whether ``user`` may revoke, suspend or reinstate ``award``: owners and editors."""
    return has_role(user, award.issuer.institution, Role.EDITOR, award.issuer)


def _require(actor: User | None, issuer: Issuer) -> None:
    if actor is not None and not has_role(actor, issuer.institution, Role.EDITOR, issuer):
        raise PermissionDenied


def _reason(reason: str, *, required: bool) -> str:
    reason = " ".join(reason.split())
    if required and not reason:
        raise ValidationError({"reason": _("Give a reason: the learner and verifiers see it.")})
    if len(reason) > MAX_REASON:
        raise ValidationError(
            {"reason": _("Keep the reason under %(n)s characters.") % {"n": MAX_REASON}}
        )
    return reason


def _notify(award: Award, action: str, reason: str) -> None:
    context = {
        "award_name": award.achievement_version.text("name", award.language),
        "issuer_name": award.issuer.name,
        "action": action,
        "reason": reason,
        "credential_path": reverse("credential", args=[award.pk]),
    }
    email, language = award.recipient_email, award.language
    transaction.on_commit(
        lambda: send_templated_mail(
            to=email, template="award_status", context=context, language=language
        )
    )


def _record(
    *,
    awards: Sequence[Award],
    actor: User | None,
    action: str,
    reason: str,
    via: str,
    notify_earner: bool,
    batch: uuid.UUID | None = None,
    at: datetime,
) -> None:
    AwardStatusEvent.objects.bulk_create(
        AwardStatusEvent(
            award=award,
            action=action,
            reason=reason,
            actor=actor,
            via=via,
            batch=batch,
            notify_earner=notify_earner,
            at=at,
        )
        for award in awards
    )
    by_institution: dict[int, list[Award]] = {}
    for award in awards:
        by_institution.setdefault(award.issuer.institution_id, []).append(award)
    for institution_id, group in by_institution.items():
        target = str(group[0].pk) if len(group) == 1 else _("%(n)s awards") % {"n": len(group)}
        data: dict[str, Any] = {"reason": reason, "via": via, "count": len(group)}
        if batch is not None:
            data["batch"] = str(batch)
        data["awards"] = [str(a.pk) for a in group[:100]]
        AuditEvent.objects.create(
            institution_id=institution_id,
            actor=actor,
            action=f"award.{action}",
            target=target[:200],
            data=data,
        )
    status.mark_changed(a.pk for a in awards)
    if action in (StatusAction.REVOKED, StatusAction.SUSPENDED):
        # Issue #7: pathway completions that counted these awards are flagged for review in
        # this same transaction (imported here: frameworks imports badges).
        from frameworks.pathways import flag_counted_awards

        flag_counted_awards(awards=awards, action=action, reason=reason, at=at)
    if notify_earner:
        for award in awards:
            _notify(award, action, reason)


def _locked(award: Award) -> Award:
    return (
        Award.objects.select_for_update(of=("self",))
        .select_related("issuer__institution", "achievement_version")
        .get(pk=award.pk)
    )


def _change(
    *,
    actor: User | None,
    award: Award,
    to: str,
    allowed_from: Iterable[str],
    action: str,
    reason: str,
    via: str,
    notify_earner: bool,
    refusal: str,
) -> Award:
    _require(actor, award.issuer)
    award = _locked(award)
    if award.status not in allowed_from:
        raise ValidationError(refusal)
    now = timezone.now()
    award.status = to
    award.status_reason = reason
    award.status_changed_at = now
    award.save(update_fields=["status", "status_reason", "status_changed_at"])
    _record(
        awards=[award],
        actor=actor,
        action=action,
        reason=reason,
        via=via,
        notify_earner=notify_earner,
        at=now,
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
) -> Award:
    """Revoke ``award`` for good, with a reason shown to the learner and to verifiers.

    Its bit in the issuer's revocation list is set; a suspended award can be revoked.
    Owners and editors. Raises ``ValidationError`` if it is already revoked.
    """
    return _change(
        actor=actor,
        award=award,
        to=AwardStatus.REVOKED,
        allowed_from=(AwardStatus.ACTIVE, AwardStatus.SUSPENDED),
        action=StatusAction.REVOKED,
        reason=_reason(reason, required=True),
        via=via,
        notify_earner=notify_earner,
        refusal=_("This badge has already been revoked."),
    )


@transaction.atomic
def suspend_award(
    *,
    actor: User | None,
    award: Award,
    reason: str,
    notify_earner: bool = False,
    via: str = "console",
) -> Award:
    """Suspend ``award`` until it is reinstated (its bit in the suspension list is set).

    Owners and editors. Only an active award can be suspended.
    """
    return _change(
        actor=actor,
        award=award,
        to=AwardStatus.SUSPENDED,
        allowed_from=(AwardStatus.ACTIVE,),
        action=StatusAction.SUSPENDED,
        reason=_reason(reason, required=True),
        via=via,
        notify_earner=notify_earner,
        refusal=_("Only an active badge can be suspended."),
    )


@transaction.atomic
def reinstate_award(
    *,
    actor: User | None,
    award: Award,
    reason: str = "",
    notify_earner: bool = False,
    via: str = "console",
) -> Award:
    """Lift a suspension: the award is valid again (unless it has expired meanwhile).

    Owners and editors. A revoked award cannot be reinstated.
    """
    return _change(
        actor=actor,
        award=award,
        to=AwardStatus.ACTIVE,
        allowed_from=(AwardStatus.SUSPENDED,),
        action=StatusAction.REINSTATED,
        reason=_reason(reason, required=False),
        via=via,
        notify_earner=notify_earner,
        refusal=_("Only a suspended badge can be reinstated."),
    )


@dataclass(frozen=True)
class BulkResult:
    """What a bulk revocation did: how many were revoked, how many were already revoked."""

    batch: uuid.UUID
    revoked: int
    already_revoked: int


@transaction.atomic
def bulk_revoke(
    *,
    actor: User | None,
    awards: QuerySet[Award],
    reason: str,
    notify_earner: bool = False,
    via: str = "bulk",
) -> BulkResult:
    """Revoke every award in ``awards`` (a selection, one achievement, a date range, an
    uploaded list) in one transaction, with one reason and one batch id.

    Owners and editors of every issuer involved: if the actor lacks the role for any of them,
    nothing is revoked. At most :data:`MAX_BULK` awards at once.
    """
    reason = _reason(reason, required=True)
    rows = list(
        awards.select_for_update(of=("self",))
        .select_related("issuer__institution", "achievement_version")
        .order_by("pk")[: MAX_BULK + 1]
    )
    if len(rows) > MAX_BULK:
        raise ValidationError(
            _("At most %(n)s badges can be revoked at once; narrow the selection.")
            % {"n": MAX_BULK}
        )
    for issuer in {award.issuer for award in rows}:
        _require(actor, issuer)
    to_revoke = [award for award in rows if award.status != AwardStatus.REVOKED]
    batch = uuid.uuid4()
    now = timezone.now()
    Award.objects.filter(pk__in=[a.pk for a in to_revoke]).update(
        status=AwardStatus.REVOKED, status_reason=reason, status_changed_at=now
    )
    if to_revoke:
        _record(
            awards=to_revoke,
            actor=actor,
            action=StatusAction.REVOKED,
            reason=reason,
            via=via,
            notify_earner=notify_earner,
            batch=batch,
            at=now,
        )
    return BulkResult(
        batch=batch, revoked=len(to_revoke), already_revoked=len(rows) - len(to_revoke)
    )


def bulk_selection(
    institution: Institution,
    *,
    achievement: Achievement | None = None,
    awarded_from: datetime | None = None,
    awarded_until: datetime | None = None,
    references: Sequence[str] = (),
) -> QuerySet[Award]:
    """The institution's awards matching every given criterion: an achievement (any of its
    versions), an award-date range (inclusive), and/or a list of credential references
    (:func:`parse_reference`) or recipient e-mail addresses."""
    awards = Award.objects.filter(issuer__institution=institution)
    if achievement is not None:
        awards = awards.filter(achievement_version__achievement=achievement)
    if awarded_from is not None:
        awards = awards.filter(awarded_at__gte=awarded_from)
    if awarded_until is not None:
        awards = awards.filter(awarded_at__lte=awarded_until)
    if references:
        ids: list[uuid.UUID] = []
        emails: list[str] = []
        for reference in references:
            if "@" in reference and not reference.startswith(("http", "urn:")):
                emails.append(reference.strip().lower())
                continue
            parsed = parse_reference(reference)
            if parsed is None:
                raise ValidationError(
                    _("Not a credential id or an e-mail address: %(ref)s")
                    % {"ref": reference[:100]}
                )
            ids.append(parsed)
        awards = awards.filter(pk__in=ids) | awards.filter(recipient_email__in=emails)
    return awards


def parse_reference(reference: str) -> uuid.UUID | None:
    """The award id in a credential reference: the credential's ``id`` as written in it
    (``https://<host>/credentials/<uuid>``), ``urn:uuid:<uuid>``, or the bare uuid (its short
    form). None if there is none."""
    match = _UUID_RE.search(reference.strip())
    return uuid.UUID(match.group(1)) if match else None


def award_by_reference(reference: str) -> Award:
    """The award a credential reference (:func:`parse_reference`) names.
    Raises ``Award.DoesNotExist``."""
    parsed = parse_reference(reference)
    if parsed is None:
        raise Award.DoesNotExist(reference)
    return Award.objects.select_related("issuer__institution", "achievement_version").get(pk=parsed)


def is_expired(award: Award, now: datetime | None = None) -> bool:
    return award.valid_until is not None and award.valid_until <= (now or timezone.now())


@transaction.atomic
def reissue_expired(*, actor: User | None, award: Award) -> Award:
    """Issue a new credential for an expired award: the latest text of the same version,
    a fresh validity period, the first award's ``awardedDate``, linked to the old award
    (``reissued_from``). Awarders, editors and owners. A revoked or suspended award, or one
    already re-issued, is refused."""
    award = _locked(award)
    if actor is not None and not has_role(
        actor, award.issuer.institution, Role.AWARDER, award.issuer
    ):
        raise PermissionDenied
    if not is_expired(award):
        raise ValidationError(_("Only an expired badge can be re-issued."))
    if award.status != AwardStatus.ACTIVE:
        raise ValidationError(_("A revoked or suspended badge cannot be re-issued."))
    if Award.objects.filter(reissued_from=award).exists():
        raise ValidationError(_("This badge has already been re-issued."))
    subject = award.credential.get("credentialSubject", {})
    new = services.award_badge(
        actor=actor,
        version=award.achievement_version,
        email=award.recipient_email,
        name=award.recipient_name,
        evidence=[
            services.EvidenceItem(url=item.url, narrative=item.narrative)
            for item in award.evidence.all()
        ],
        narrative=str(subject.get("narrative", "")),
        language=award.language,
        awarded_date=award.awarded_at,
        reissued_from=award,
    )
    now = timezone.now()
    AwardStatusEvent.objects.create(
        award=award,
        action=StatusAction.REISSUED,
        reason=str(new.pk),
        actor=actor,
        via="console",
        at=now,
    )
    AuditEvent.objects.create(
        institution_id=award.issuer.institution_id,
        actor=actor,
        action="award.reissued",
        target=str(award.pk),
        data={"new_award": str(new.pk)},
    )
    return new
