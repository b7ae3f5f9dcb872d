"""Every write to awards below the awarding layer: store newly signed awards, set an award's
status, record a re-issue, and the learner's claim.

These functions check no role, policy or input rule: ``awarding.services`` has checked the
role once, the institution's policies and each request's rules before it calls them, inside
its own transaction. Nothing else calls them.

About 430 lines: storing new awards and changing their status share the award's events,
audit rows and status-list bookkeeping, which belong beside both.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import credentials
from badges.models import (
    AchievementVersion,
    Award,
    AwardEvidence,
    AwardNotification,
    AwardStatusEvent,
    BulkBatch,
    BulkRow,
    IdentifierType,
    RowState,
    StatusAction,
)
from badges.statuslists import services as statuslist_services
from common.db import insert_many
from common.mail import send_templated_mail
from events import services as event_services
from events.models import EventType
from issuers import keys
from issuers import services as issuer_services
from issuers.models import AuditAction
from openbadges import ob3


@dataclass(frozen=True)
class EvidenceItem:
    """One evidence item as the awarder gives it: a URL, a narrative, or both."""

    url: str = ""
    narrative: str = ""


@dataclass(frozen=True)
class NewAward:
    """One award that passed every check, as plain values: what its credential will say.

    ``email`` (normalized, or "") and ``identifier_type`` with ``identifier`` (normalized,
    or both "") name the learner: one or both. ``result`` is the learner's value for the
    version's first ``ResultDescription``; ``awarded_date`` and ``reissued_from`` are set by
    a re-issue, which keeps the first award's ``awardedDate`` and links to it.
    """

    email: str
    language: str
    identifier_type: str = ""
    identifier: str = ""
    name: str = ""
    valid_until: datetime | None = None
    evidence: tuple[EvidenceItem, ...] = ()
    narrative: str = ""
    result: str = ""
    credits_earned: float | None = None
    awarded_date: datetime | None = None
    reissued_from: Award | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class Endorsements:
    """Signed ``EndorsementCredential`` objects new credentials carry whole: those of the
    achievement (in ``achievement.endorsement``) and of the issuer (``issuer.endorsement``),
    chosen above this app by ``endorsements.selectors.embedded_for``."""

    achievement: tuple[dict[str, Any], ...] = ()
    issuer: tuple[dict[str, Any], ...] = ()


def store_awards(
    *,
    actor: User | None,
    version: AchievementVersion,
    achievements: Mapping[str, ob3.Achievement],
    awards: Sequence[NewAward],
    now: datetime,
    client: str = "",
    endorsements: Endorsements | None = None,
) -> list[Award]:
    """Build, sign and store ``awards`` of ``version`` (DESIGN.md §4), in the caller's
    transaction; returns the stored rows in order.

    ``achievements`` is the version's OB 3.0 ``Achievement`` per language, framework facts
    included. Each award gets its entries in the issuer's revocation and suspension lists,
    drawn at random in this transaction; its credential is built from plain data
    (``openbadges.ob3``), signed with the issuer's active key (eddsa-rdfc-2022, the key
    decrypted once for all) and its exact text stored: it is never rebuilt. One audit row per
    award, naming the API ``client`` when one acted for itself. Raises
    ``issuers.keys.SigningUnavailable`` when nothing can be signed.
    """
    issuer = version.achievement.issuer
    key = issuer_services.active_key(issuer)  # fails closed without the key-encryption key
    sign = keys.signer(key)
    entries = statuslist_services.allocate_many(issuer=issuer, award_ids=[a.id for a in awards])
    result_id = credentials.result_description_id(credentials.version_url(version), 1)
    profiles: dict[str, ob3.Profile] = {}
    rows: list[Award] = []
    for new in awards:
        if new.language not in profiles:
            profiles[new.language] = credentials.issuer_profile(issuer, new.language)
        recipient = ob3.Recipient(
            new.email, identifier_type=new.identifier_type, identifier=new.identifier
        )
        unsigned = ob3.build_credential(
            id=credentials.credential_url(new.id),
            issuer=profiles[new.language],
            achievement=achievements[new.language],
            recipient=recipient,
            valid_from=now,
            valid_until=new.valid_until,
            awarded_date=new.awarded_date or now,
            evidence=[
                ob3.Evidence(id=i.url or None, narrative=i.narrative or None) for i in new.evidence
            ],
            narrative=new.narrative or None,
            credential_status=entries[new.id],
            credits_earned=new.credits_earned,
            results=[ob3.Result(result_id, new.result)] if new.result else (),
            achievement_endorsements=endorsements.achievement if endorsements else (),
            issuer_endorsements=endorsements.issuer if endorsements else (),
        )
        identity = unsigned["credentialSubject"]["identifier"][0]
        signed = sign(unsigned, now)
        rows.append(
            Award(
                id=new.id,
                issuer=issuer,
                achievement_version=version,
                signing_key=key,
                recipient_email=new.email,
                recipient_identifier_type=new.identifier_type,
                recipient_identifier=new.identifier,
                recipient_email_hash=identity["identityHash"],
                salt=recipient.salt,
                recipient_name=new.name.strip(),
                language=new.language,
                valid_from=now,
                valid_until=new.valid_until,
                awarded_at=new.awarded_date or now,
                awarded_by=actor,
                reissued_from=new.reissued_from,
                # Compact: the exact text served, baked and hashed; pretty-printing it cost
                # 6 % of a bulk award (json's indent mode is pure Python).
                credential_json=json.dumps(signed, ensure_ascii=False, separators=(",", ":")),
            )
        )
    _insert_awards(rows)
    event_services.emit_many(events=[award_event(row, EventType.AWARD_ISSUED) for row in rows])
    AwardEvidence.objects.bulk_create(
        AwardEvidence(award=row, position=n, url=item.url, narrative=item.narrative)
        for row, new in zip(rows, awards, strict=True)
        for n, item in enumerate(new.evidence, start=1)
    )
    issuer_services.record_audits(
        institution_id=issuer.institution_id,
        actor=actor,
        action=AuditAction.AWARD_ISSUED,
        target=f"{version.achievement} v{version.number}",
        data=[{"award": str(row.pk), **({"client": client} if client else {})} for row in rows],
    )
    return rows


def _insert_awards(rows: Sequence[Award]) -> None:
    """INSERT the new awards: on PostgreSQL with one ``COPY … FROM STDIN`` (one statement
    parsed and planned once, each value bound by psycopg's C dumpers: half the server time of
    one INSERT per row, and cheaper for the client too); elsewhere with
    ``common.db.insert_many``. Like ``insert_many``: ``pre_save`` runs, no ``save()``, no
    signals."""
    if connection.vendor != "postgresql" or not rows:
        insert_many(rows)  # not bulk_create: see common.db.insert_many
        return
    fields = Award._meta.local_concrete_fields  # computed once by Django
    table = connection.ops.quote_name(Award._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    statement = f"COPY {table} ({columns}) FROM STDIN"  # nosec B608 - the model's names, quoted
    started = time.monotonic()
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:  # psycopg's own
        for row in rows:
            copy.write_row(
                [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
            )
    if connection.queries_logged:  # as Django's debug cursor does, so query counts see it
        connection.queries_log.append(
            {"sql": f"{statement} ({len(rows)} rows)", "time": f"{time.monotonic() - started:.3f}"}
        )
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def identifier_json(award: Award) -> dict[str, str | None]:
    """The award's institutional identifier as the REST API and the webhooks show it: one
    field per kind (``student_id``, ``sourced_id``), ``None`` for the kinds it has not."""
    return {
        kind.field_name: award.recipient_identifier
        if award.recipient_identifier_type == kind
        else None
        for kind in IdentifierType
    }


def award_event(award: Award, type: str, **extra: Any) -> event_services.NewEvent:
    """The event announcing ``award`` to the institution's webhooks (``events``): what a
    receiver needs to act on it without calling back. Reads the award's issuer and version,
    which every caller has loaded with it."""
    version = award.achievement_version
    return event_services.NewEvent(
        type=type,
        institution_id=award.issuer.institution_id,
        issuer_id=award.issuer_id,
        subject=str(award.pk),
        data={
            "award_id": str(award.pk),
            "credential_id": credentials.credential_url(award.pk),
            "achievement_id": str(version.achievement_id),
            "achievement_version": version.number,
            "achievement_name": version.text("name", award.language),
            "issuer": award.issuer.slug,
            "recipient_email": award.recipient_email or None,
            **{f"recipient_{k}": v for k, v in identifier_json(award).items()},
            "recipient_name": award.recipient_name,
            "language": award.language,
            "status": award.status,
            "awarded_at": _iso(award.awarded_at),
            "valid_until": _iso(award.valid_until),
            **extra,
        },
    )


def record_batch_finished(*, batch: BulkBatch) -> None:
    """The ``batch.finished`` event of a bulk upload that has just finished, with what
    became of its rows, in the caller's transaction."""
    rows = BulkRow.objects.filter(batch=batch).values_list("state").annotate(n=Count("pk"))
    counts = dict.fromkeys(RowState.values, 0) | dict(rows)
    version = batch.achievement_version
    event_services.emit(
        type=EventType.BATCH_FINISHED,
        institution_id=batch.issuer.institution_id,
        issuer_id=batch.issuer_id,
        subject=str(batch.pk),
        data={
            "batch_id": str(batch.pk),
            "issuer": batch.issuer.slug,
            "achievement_id": str(version.achievement_id),
            "achievement_version": version.number,
            "file_name": batch.file_name,
            "total_rows": batch.total_rows,
            "issued": counts[RowState.SIGNED] + counts[RowState.NOTIFIED],
            "failed": counts[RowState.FAILED],
            "skipped": counts[RowState.SKIPPED],
            "cancelled": counts[RowState.CANCELLED],
            "finished_at": _iso(batch.finished_at),
        },
    )


def lock_award(award: Award) -> Award:
    """``award`` read again under a row lock, with its issuer and version (for a change)."""
    return (
        Award.objects.select_for_update(of=("self",))
        .select_related("issuer__institution", "achievement_version")
        .get(pk=award.pk)
    )


_STATUS_AUDIT = {
    StatusAction.REVOKED: AuditAction.AWARD_REVOKED,
    StatusAction.SUSPENDED: AuditAction.AWARD_SUSPENDED,
    StatusAction.REINSTATED: AuditAction.AWARD_REINSTATED,
}
_STATUS_EVENT = {
    StatusAction.REVOKED: EventType.AWARD_REVOKED,
    StatusAction.SUSPENDED: EventType.AWARD_SUSPENDED,
    StatusAction.REINSTATED: EventType.AWARD_REINSTATED,
}


def set_status(
    *,
    awards: Sequence[Award],
    actor: User | None,
    status: str,
    action: StatusAction,
    reason: str,
    via: str,
    notify_earner: bool,
    at: datetime,
    batch: uuid.UUID | None = None,
    client: str = "",
) -> None:
    """Give ``awards`` (locked by the caller) the new ``status`` with its reason, in the
    caller's transaction: one ``AwardStatusEvent`` each, one audit row per institution (with
    ``client``, the API client or token that asked, if any), the
    status lists holding them marked changed (so the served lists, the badge page and this
    platform's verifier see the change once it commits), and, if asked, an e-mail to each
    learner after commit."""
    Award.objects.filter(pk__in=[a.pk for a in awards]).update(
        status=status, status_reason=reason, status_changed_at=at, updated_at=at
    )
    for award in awards:
        award.status, award.status_reason, award.status_changed_at = status, reason, at
        award.updated_at = at
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
        data: dict[str, Any] = {"reason": reason, "via": via, "count": len(group)}
        if batch is not None:
            data["batch"] = str(batch)
        if client:
            data["client"] = client
        data["awards"] = [str(a.pk) for a in group[:100]]
        issuer_services.record_audit(
            institution_id=institution_id,
            actor=actor,
            action=_STATUS_AUDIT[action],
            target=str(group[0].pk) if len(group) == 1 else _("%(n)s awards") % {"n": len(group)},
            **data,
        )
    statuslist_services.mark_changed(a.pk for a in awards)
    event_services.emit_many(
        events=[
            award_event(a, _STATUS_EVENT[action], reason=reason, changed_at=_iso(at))
            for a in awards
        ]
    )
    if notify_earner:
        for award in awards:
            _email_status_change(award, action, reason)


def _email_status_change(award: Award, action: str, reason: str) -> None:
    context = {
        "award_name": award.achievement_version.text("name", award.language),
        "issuer_name": award.issuer.name,
        "action": action,
        "reason": reason,
        "credential_path": reverse("credential", args=[award.pk]),
    }
    email, language = award.recipient_email, award.language
    if not email:  # awarded to an identifier only: there is no one to write to
        return
    transaction.on_commit(
        lambda: send_templated_mail(
            to=email, template="award_status", context=context, language=language
        )
    )


def record_reissue(*, actor: User | None, award: Award, new: Award, via: str) -> None:
    """Note on the expired ``award`` that ``new`` re-issued it (status history and audit)."""
    AwardStatusEvent.objects.create(
        award=award,
        action=StatusAction.REISSUED,
        reason=str(new.pk),
        actor=actor,
        via=via,
        at=timezone.now(),
    )
    issuer_services.record_audit(
        institution_id=award.issuer.institution_id,
        actor=actor,
        action=AuditAction.AWARD_REISSUED,
        target=str(award.pk),
        new_award=str(new.pk),
    )


@transaction.atomic
def claim_award(*, award: Award) -> Award:
    """The learner accepts ``award``: ``claimed_at`` is set once and kept, and its e-mails
    count as opened. The holder of the link is the learner (it went only to their address)."""
    locked = Award.objects.select_for_update().get(pk=award.pk)
    if locked.claimed_at is None:
        locked.claimed_at = timezone.now()
        locked.save(update_fields=["claimed_at", "updated_at"])
        # The issuer and version as the caller read them (they never change).
        locked.issuer, locked.achievement_version = award.issuer, award.achievement_version
        event_services.emit_many(
            events=[
                award_event(locked, EventType.AWARD_CLAIMED, claimed_at=_iso(locked.claimed_at))
            ]
        )
    AwardNotification.objects.filter(award=locked, opened_at__isnull=True).update(
        opened_at=locked.claimed_at
    )
    return locked
