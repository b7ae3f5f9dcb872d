"""Every write of bulk issuing (issue #8, DESIGN.md §8): upload as a dry run, start, issue
in chunks, cancel, retry, sweep.

Reliability: an upload's rows are inserted ``pending`` in one transaction. Issuing takes a
chunk of at most ``BULK_CHUNK`` pending rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and, in
the same transaction, awards each row (``services.award_badge``: status index, signature,
stored credential) and marks it ``signed``. A worker killed mid-chunk rolls the whole chunk
back, so the rows are pending again; a committed row has exactly one award (``BulkRow.award``
is one-to-one). Any number of tasks may run on the same batch; a sweeper re-enqueues a
running batch that went quiet, so nothing depends on broker redelivery.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import secrets
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import bulk, revocation, services
from badges.models import (
    AchievementVersion,
    Award,
    AwardStatus,
    BatchState,
    BulkBatch,
    BulkRow,
    DuplicateHandling,
    IdempotentRequest,
    IssuerApiToken,
    RowState,
    VersionStatus,
)
from issuers import keys
from issuers.models import AuditEvent, Issuer, Role
from issuers.permissions import require_role

logger = logging.getLogger(__name__)


def chunk_size() -> int:
    return min(100, int(getattr(settings, "BULK_CHUNK", 100)))


def _audit(batch: BulkBatch, actor: User | None, action: str, **data: object) -> None:
    AuditEvent.objects.create(
        institution_id=batch.issuer.institution_id,
        actor=actor,
        action=action,
        target=str(batch.achievement_version.achievement),
        data={"batch": str(batch.pk), **data},
    )


@transaction.atomic
def create_batch(
    *,
    actor: User,
    version: AchievementVersion,
    file_name: str,
    data: bytes,
    duplicates: str = DuplicateHandling.SKIP,
    notify: bool = True,
) -> BulkBatch:
    """Parse an upload and store it as a dry run: every row, pending, with its errors.

    Awarders and above; replacing earlier badges revokes them, so it needs an editor.
    File-level problems raise ``ValidationError`` and store nothing.
    """
    issuer = version.achievement.issuer
    require_role(
        actor,
        issuer.institution,
        Role.EDITOR if duplicates == DuplicateHandling.REPLACE else Role.AWARDER,
        issuer,
    )
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError(_("Only a published version can be awarded."))
    rows = bulk.parse_upload(
        data, file_name, version, allow_repeats=duplicates == DuplicateHandling.ALLOW
    )
    batch = BulkBatch.objects.create(
        issuer=issuer,
        achievement_version=version,
        file_name=file_name[:255],
        duplicates=duplicates,
        notify=notify,
        total_rows=len(rows),
        error_rows=sum(1 for r in rows if r.errors),
        created_by=actor,
    )
    BulkRow.objects.bulk_create(
        (
            BulkRow(
                batch=batch,
                number=r.number,
                email=r.email,
                name=r.name,
                evidence_url=r.evidence_url,
                evidence_narrative=r.evidence_narrative,
                valid_until=r.valid_until,
                result=r.result,
                language=r.language,
                errors=r.errors,
            )
            for r in rows
        ),
        batch_size=1000,
    )
    _audit(batch, actor, "bulk.uploaded", rows=len(rows), file=file_name[:255])
    return batch


def _in_thread(batch_id: uuid.UUID) -> None:
    from badges import tasks

    def work() -> None:
        try:
            tasks.issue_batch(str(batch_id))
        finally:
            connection.close()

    threading.Thread(target=work, name=f"bulk-{batch_id}", daemon=True).start()


def _enqueue(batch_id: uuid.UUID) -> None:
    from badges import tasks

    if getattr(settings, "BULK_BACKGROUND_THREAD", False):  # make run, without a broker
        transaction.on_commit(lambda: _in_thread(batch_id))
        return
    parallel = max(1, int(getattr(settings, "BULK_PARALLEL_TASKS", 2)))
    for _n in range(parallel):
        transaction.on_commit(lambda: tasks.issue_batch.delay(str(batch_id)))


@transaction.atomic
def start_batch(*, actor: User, batch: BulkBatch) -> BulkBatch:
    """Issue a dry-run batch without errors: it becomes ``running`` and tasks take over."""
    require_role(actor, batch.issuer.institution, Role.AWARDER, batch.issuer)
    locked = BulkBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.state != BatchState.DRAFT:
        raise ValidationError(_("This upload has already been issued."))
    if locked.error_rows:
        raise ValidationError(_("Fix the rows with errors and upload the file again."))
    keys.active_key(locked.issuer)  # fails before anything starts if nothing can be signed
    locked.state = BatchState.RUNNING
    locked.started_at = locked.progress_at = timezone.now()
    locked.save(update_fields=["state", "started_at", "progress_at"])
    _audit(locked, actor, "bulk.started", rows=locked.total_rows)
    _enqueue(locked.pk)
    return locked


def _active_awards(rows: list[BulkRow], batch: BulkBatch) -> dict[str, list[Award]]:
    """The chunk's learners' active awards of this achievement (any version), by e-mail,
    other than this batch's own: one query per chunk."""
    if batch.duplicates == DuplicateHandling.ALLOW or not rows:
        return {}
    found: dict[str, list[Award]] = {}
    for award in Award.objects.filter(
        achievement_version__achievement_id=batch.achievement_version.achievement_id,
        recipient_email__in=[row.email for row in rows],
        status=AwardStatus.ACTIVE,
    ).exclude(bulk_row__batch=batch):
        found.setdefault(award.recipient_email, []).append(award)
    return found


def _issue_row(row: BulkRow, batch: BulkBatch, earlier: list[Award]) -> None:
    if earlier and batch.duplicates == DuplicateHandling.SKIP:
        row.state = RowState.SKIPPED
        row.message = _("Already has this badge.")
        return
    for previous in earlier:  # DuplicateHandling.REPLACE
        revocation.revoke_award(
            actor=batch.created_by,
            award=previous,
            reason=_("Replaced by a new badge from a bulk upload."),
            via="bulk",
        )
    evidence = (
        [services.EvidenceItem(url=row.evidence_url, narrative=row.evidence_narrative)]
        if row.evidence_url or row.evidence_narrative
        else []
    )
    row.award = services.award_badge(
        actor=batch.created_by,
        version=batch.achievement_version,
        email=row.email,
        name=row.name,
        evidence=evidence,
        valid_until=row.valid_until,
        language=row.language or None,
        result=row.result,
        notify=batch.notify,
    )
    row.state = RowState.SIGNED
    row.message = ""


@transaction.atomic
def issue_chunk(*, batch_id: uuid.UUID) -> int:
    """Award up to ``BULK_CHUNK`` pending rows of a running batch in one transaction.

    Returns how many rows it took (0: none left that another task is not working on).
    Rows locked by another task are skipped, never waited for. A row that fails validation
    is marked ``failed`` with the reason; ``SigningUnavailable`` rolls the chunk back.
    """
    batch = (
        BulkBatch.objects.select_related("achievement_version__achievement", "issuer")
        .filter(pk=batch_id, state=BatchState.RUNNING)
        .first()
    )
    if batch is None:
        return 0
    rows = list(
        BulkRow.objects.select_for_update(skip_locked=True)
        .filter(batch=batch, state=RowState.PENDING)
        .order_by("number")[: chunk_size()]
    )
    active = _active_awards(rows, batch)
    for row in rows:
        row.attempts += 1
        earlier = active.get(row.email, [])
        try:
            # A bad row costs only itself: award_badge is atomic (a savepoint here); replacing
            # also revokes, so that row gets a savepoint around both.
            if earlier and batch.duplicates == DuplicateHandling.REPLACE:
                with transaction.atomic():
                    _issue_row(row, batch, earlier)
            else:
                _issue_row(row, batch, earlier)
        except ValidationError as error:
            row.state = RowState.FAILED
            row.message = "; ".join(error.messages)
        except keys.SigningUnavailable:
            raise
        except Exception as error:  # a bug in one row must not block the rest of the batch
            logger.exception("bulk row %s failed", row.pk)
            row.state = RowState.FAILED
            row.message = str(error)[:500]
    BulkRow.objects.bulk_update(rows, ["state", "message", "award", "attempts", "updated_at"])
    if rows:
        BulkBatch.objects.filter(pk=batch.pk).update(progress_at=timezone.now())
    return len(rows)


@transaction.atomic
def finish_if_done(*, batch_id: uuid.UUID) -> bool:
    """Mark a running batch done once no row is pending; True if it is done."""
    batch = BulkBatch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None or batch.state != BatchState.RUNNING:
        return batch is not None and batch.state == BatchState.DONE
    if BulkRow.objects.filter(batch=batch, state=RowState.PENDING).exists():
        return False
    batch.state = BatchState.DONE
    batch.finished_at = timezone.now()
    batch.save(update_fields=["state", "finished_at"])
    return True


@transaction.atomic
def cancel_batch(*, actor: User, batch: BulkBatch) -> BulkBatch:
    """Stop issuing: rows not yet issued are cancelled; issued badges stay issued."""
    require_role(actor, batch.issuer.institution, Role.AWARDER, batch.issuer)
    locked = BulkBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.state not in (BatchState.DRAFT, BatchState.RUNNING):
        raise ValidationError(_("This upload is not running."))
    locked.state = BatchState.CANCELLED
    locked.finished_at = timezone.now()
    locked.save(update_fields=["state", "finished_at"])
    # Waits for a chunk in flight to commit, then re-checks the state of each row.
    cancelled = BulkRow.objects.filter(batch=locked, state=RowState.PENDING).update(
        state=RowState.CANCELLED, updated_at=timezone.now()
    )
    _audit(locked, actor, "bulk.cancelled", rows=cancelled)
    return locked


@transaction.atomic
def retry_failed(*, actor: User, batch: BulkBatch) -> int:
    """Put failed rows back to pending and issue them again; returns how many."""
    require_role(actor, batch.issuer.institution, Role.AWARDER, batch.issuer)
    locked = BulkBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.state not in (BatchState.DONE, BatchState.RUNNING):
        raise ValidationError(_("Only an issued upload can be retried."))
    count = BulkRow.objects.filter(batch=locked, state=RowState.FAILED, award=None).update(
        state=RowState.PENDING, message="", updated_at=timezone.now()
    )
    if count:
        locked.state = BatchState.RUNNING
        locked.finished_at = None
        locked.progress_at = timezone.now()
        locked.save(update_fields=["state", "finished_at", "progress_at"])
        _audit(locked, actor, "bulk.retried", rows=count)
        _enqueue(locked.pk)
    return count


def stale_batches(*, older_than: timedelta) -> list[uuid.UUID]:
    """Running batches with no progress for ``older_than``: their tasks were lost."""
    cutoff = timezone.now() - older_than
    return list(
        BulkBatch.objects.filter(state=BatchState.RUNNING, progress_at__lte=cutoff).values_list(
            "pk", flat=True
        )
    )


def progress(batch: BulkBatch) -> dict[str, int]:
    """Row counts by state, with ``done`` (rows no longer pending) and ``percent``."""
    counts = dict.fromkeys(RowState.values, 0)
    for entry in BulkRow.objects.filter(batch=batch).values("state").annotate(n=Count("pk")):
        counts[entry["state"]] = entry["n"]
    total = batch.total_rows or 1
    done = batch.total_rows - counts[RowState.PENDING]
    return {**counts, "total": batch.total_rows, "done": done, "percent": done * 100 // total}


def result_csv(batch: BulkBatch) -> bytes:
    """The downloadable result: every row, what became of it and the credential's link."""
    from badges import credentials

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Row"), _("E-mail"), _("Name"), _("Status"), _("Message"), _("Credential")])
    for row in batch.rows.order_by("number"):
        message = row.message or "; ".join(e["message"] for e in row.errors)
        link = credentials.credential_url(row.award_id) if row.award_id else ""
        writer.writerow([row.number, row.email, row.name, RowState(row.state).label, message, link])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------------------------
# The awarding API: one or many awards, idempotent by key (issue #8)
# --------------------------------------------------------------------------------------------


def new_api_token_key() -> str:
    return "ins_" + secrets.token_urlsafe(32)


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_api_token(*, actor: User, issuer: Issuer, name: str) -> tuple[IssuerApiToken, str]:
    """A token that awards badges of ``issuer`` only; the key is shown once. Owners."""
    require_role(actor, issuer.institution, Role.OWNER)
    key = new_api_token_key()
    token = IssuerApiToken.objects.create(
        issuer=issuer, name=name[:100], key_hash=token_hash(key), created_by=actor
    )
    AuditEvent.objects.create(
        institution_id=issuer.institution_id,
        actor=actor,
        action="api_token.created",
        target=str(issuer),
        data={"token": str(token.pk), "name": token.name},
    )
    return token, key


@dataclass(frozen=True)
class AwardRequest:
    """One award asked for through the API."""

    email: str
    name: str = ""
    evidence: tuple[services.EvidenceItem, ...] = ()
    narrative: str = ""
    valid_until: datetime | None = None
    result: str = ""
    language: str = ""


def award_json(award: Award) -> dict[str, object]:
    from badges import credentials

    return {
        "id": str(award.pk),
        "credential": credentials.credential_url(award.pk),
        "email": award.recipient_email,
        "name": award.recipient_name,
        "language": award.language,
        "valid_until": award.valid_until.isoformat() if award.valid_until else None,
    }


@transaction.atomic
def award_many(
    *,
    actor: User | None,
    version: AchievementVersion,
    requests: Sequence[AwardRequest],
    idempotency_key: str = "",
    request_hash: str = "",
) -> tuple[int, dict[str, object]]:
    """Award ``version`` to every request, all or nothing; ``(HTTP status, body)``.

    With an ``idempotency_key``, the first request's answer is stored under a unique
    (issuer, key): the same key again returns that answer and awards nothing; the same key
    with a different body is refused (422). ``actor=None`` is an issuer-scoped API token
    whose issuer the caller has already checked.
    """
    issuer = version.achievement.issuer
    record: IdempotentRequest | None = None
    if idempotency_key:
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    issuer=issuer, key=idempotency_key[:200], request_hash=request_hash
                )
        except IntegrityError:  # a concurrent twin waited for the first one to commit
            existing = IdempotentRequest.objects.get(issuer=issuer, key=idempotency_key[:200])
            if existing.request_hash != request_hash:
                return 422, {"errors": [_("This Idempotency-Key was used for another request.")]}
            return existing.status_code, dict(existing.response)
    awards: list[Award] = []
    errors: list[dict[str, object]] = []
    for index, item in enumerate(requests):
        try:
            with transaction.atomic():
                awards.append(
                    services.award_badge(
                        actor=actor,
                        version=version,
                        email=item.email,
                        name=item.name,
                        evidence=item.evidence,
                        narrative=item.narrative,
                        valid_until=item.valid_until,
                        language=item.language or None,
                        result=item.result,
                    )
                )
        except ValidationError as error:
            detail = error.message_dict if hasattr(error, "error_dict") else error.messages
            errors.append({"index": index, "errors": detail})
    if errors:
        transaction.set_rollback(True)  # all or nothing; the key stays free for a retry
        return 400, {"errors": errors}
    body: dict[str, object] = {"awards": [award_json(a) for a in awards]}
    if record is not None:
        record.response = body
        record.status_code = 201
        record.save(update_fields=["response", "status_code"])
    return 201, body
