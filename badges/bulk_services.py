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
import io
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import bulk, revocation, services, status
from badges.models import (
    AchievementVersion,
    Award,
    AwardStatus,
    BatchState,
    BulkBatch,
    BulkRow,
    DuplicateHandling,
    IdempotentRequest,
    RowState,
    VersionStatus,
)
from issuers import keys
from issuers.models import AuditEvent, Role
from issuers.permissions import require_role

logger = logging.getLogger(__name__)
T = TypeVar("T")


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
                credits_earned=r.credits_earned,
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
    status.open_lists(locked.issuer)  # so parallel chunks need not create them
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


def _request(row: BulkRow) -> services.AwardRequest:
    evidence = (
        (services.EvidenceItem(url=row.evidence_url, narrative=row.evidence_narrative),)
        if row.evidence_url or row.evidence_narrative
        else ()
    )
    return services.AwardRequest(
        email=row.email,
        name=row.name,
        evidence=evidence,
        valid_until=row.valid_until,
        language=row.language,
        result=row.result,
        credits_earned=row.credits_earned,
    )


def _replace(row: BulkRow, batch: BulkBatch, earlier: list[Award]) -> None:
    for previous in earlier:
        revocation.revoke_award(
            actor=batch.created_by,
            award=previous,
            reason=_("Replaced by a new badge from a bulk upload."),
            via="bulk",
        )


def _award_rows(rows: list[BulkRow], batch: BulkBatch) -> None:
    """Award ``rows`` together (``services.award_badges``) and record each outcome."""
    outcomes = services.award_badges(
        actor=batch.created_by,
        version=batch.achievement_version,
        requests=[_request(row) for row in rows],
        notify=batch.notify,
    )
    for row, outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, ValidationError):
            row.state = RowState.FAILED
            row.message = "; ".join(outcome.messages)
        else:
            row.award = outcome
            row.state = RowState.SIGNED
            row.message = ""


def _fail(rows: list[BulkRow], message: str) -> None:
    for row in rows:
        row.state = RowState.FAILED
        row.message = message[:500]


#: How often a chunk that lost a deadlock is tried again before the task gives up (the
#: sweeper re-enqueues the batch later).
_DEADLOCK_RETRIES = 5


def _transient(error: OperationalError) -> bool:
    """A deadlock or serialisation failure: PostgreSQL rolled the chunk back; try again."""
    import psycopg.errors

    cause = error.__cause__
    return isinstance(cause, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure)


def retrying_deadlocks(work: Callable[[], T]) -> T:
    """Run ``work`` (one whole transaction) again when PostgreSQL picks it as a deadlock's
    victim, up to ``_DEADLOCK_RETRIES`` times.

    Parallel awards can wait on each other: a status index drawn by both, uncommitted in one,
    makes the other wait for its commit, and two such waits can form a cycle. PostgreSQL then
    rolls one transaction back whole, and it is simply run again.
    """
    for attempt in range(_DEADLOCK_RETRIES):
        try:
            return work()
        except OperationalError as error:
            if not _transient(error) or attempt == _DEADLOCK_RETRIES - 1:
                raise
            logger.info("a transaction was a deadlock victim; running it again")
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def issue_chunk(*, batch_id: uuid.UUID) -> int:
    """:func:`issue_chunk_once`, run again if it loses a deadlock (its rows are pending again
    after the rollback)."""
    return retrying_deadlocks(lambda: issue_chunk_once(batch_id=batch_id))


@transaction.atomic
def issue_chunk_once(*, batch_id: uuid.UUID) -> int:
    """Award up to ``BULK_CHUNK`` pending rows of a running batch in one transaction.

    Returns how many rows it took (0: none left that another task is not working on).
    Rows locked by another task are skipped, never waited for. The rows are awarded together
    (``services.award_badges``); a row that fails its checks is marked ``failed`` with the
    reason, and ``SigningUnavailable`` rolls the chunk back. Should the batch path fail for
    any other reason, the chunk is awarded row by row so one bad row costs only itself.
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
    to_award: list[BulkRow] = []
    for row in rows:
        row.attempts += 1
        earlier = active.get(row.email, [])
        if earlier and batch.duplicates == DuplicateHandling.SKIP:
            row.state = RowState.SKIPPED
            row.message = _("Already has this badge.")
        elif earlier:  # DuplicateHandling.REPLACE: revoke the earlier badges first
            try:
                with transaction.atomic():
                    _replace(row, batch, earlier)
            except ValidationError as error:
                row.state = RowState.FAILED
                row.message = "; ".join(error.messages)
            else:
                to_award.append(row)
        else:
            to_award.append(row)
    if to_award:
        try:
            with transaction.atomic():
                _award_rows(to_award, batch)
        except ValidationError as error:  # the version itself cannot be awarded now
            _fail(to_award, "; ".join(error.messages))
        except keys.SigningUnavailable:
            raise
        except Exception:
            logger.exception("bulk chunk of batch %s failed; awarding row by row", batch.pk)
            for row in to_award:
                try:
                    with transaction.atomic():
                        _award_rows([row], batch)
                except keys.SigningUnavailable:
                    raise
                except Exception as error:  # a bug in one row must not block the rest
                    logger.exception("bulk row %s failed", row.pk)
                    _fail([row], str(error))
    _save_outcomes(rows)
    if rows:
        BulkBatch.objects.filter(pk=batch.pk).update(progress_at=timezone.now())
    return len(rows)


def _save_outcomes(rows: list[BulkRow]) -> None:
    """Store each row's state, message, award and attempts: one statement run for all rows
    (``bulk_update`` builds a CASE per column and row, which costs more than the awards)."""
    now = timezone.now()
    table = connection.ops.quote_name(BulkRow._meta.db_table)
    # Values go through their fields, as the ORM would send them: SQLite (the embedded
    # default of `make run`) takes no UUID or aware datetime objects as they are.
    award, updated = BulkRow._meta.get_field("award"), BulkRow._meta.get_field("updated_at")
    stamp = updated.get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET state = %s, message = %s, award_id = %s, attempts = %s, "  # noqa: S608 - the table name is ours
            "updated_at = %s WHERE id = %s",
            [
                (
                    r.state,
                    r.message,
                    award.get_db_prep_save(r.award_id, connection),
                    r.attempts,
                    stamp,
                    r.pk,
                )
                for r in rows
            ],
        )


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


#: One award asked for through the API.
AwardRequest = services.AwardRequest


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
    try:
        outcomes = services.award_badges(actor=actor, version=version, requests=requests)
    except ValidationError as error:  # the version itself cannot be awarded
        outcomes = [error] * len(requests)
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, ValidationError):
            detail = outcome.message_dict if hasattr(outcome, "error_dict") else outcome.messages
            errors.append({"index": index, "errors": detail})
        else:
            awards.append(outcome)
    if errors:
        transaction.set_rollback(True)  # all or nothing; the key stays free for a retry
        return 400, {"errors": errors}
    body: dict[str, object] = {"awards": [award_json(a) for a in awards]}
    if record is not None:
        record.response = body
        record.status_code = 201
        record.save(update_fields=["response", "status_code"])
    return 201, body
