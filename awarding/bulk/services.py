"""Every write of bulk issuing (DESIGN.md §8): upload as a dry run, start, issue in chunks,
cancel, retry.

Reliability: an upload's rows are inserted ``pending`` in one transaction. Issuing takes a
chunk of at most ``BULK_CHUNK`` pending rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and, in
the same transaction, awards them (``awarding.services.award_badges``: status index,
signature, stored credential) and marks each ``signed``. A worker killed mid-chunk rolls the
whole chunk back, so the rows are pending again; a committed row has exactly one award
(``BulkRow.award`` is one-to-one). Any number of tasks may run on the same batch; a sweeper
re-enqueues a running batch that went quiet, so nothing depends on broker redelivery.

Speed (DESIGN.md §10): a task issues in ``BULK_LANES`` threads, each its own connection and
each chunk still its own transaction, so one lane signs while another waits on PostgreSQL; a
chunk costs a fixed handful of statements whatever its size (status indexes drawn without
probing, awards by ``COPY``, row outcomes by one ``UPDATE``).

About 480 lines: every write of an upload's life is here (upload, start, the chunk with its
fallbacks, the lanes, cancel, retry), since each must keep the same rows-and-awards invariant.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from awarding import services as awarding
from awarding.bulk import parse, tasks
from awarding.bulk import selectors as bulk_selectors
from awarding.revocation import services as revocation
from awarding.rules import AwardRequest
from badges.models import (
    AchievementVersion,
    Award,
    BatchState,
    BulkBatch,
    BulkRow,
    DuplicateHandling,
    RowState,
    VersionStatus,
)
from badges.services import EvidenceItem, record_batch_finished
from badges.statuslists import services as statuslist_services
from common.db import retrying_deadlocks
from frameworks.catalogue import policies
from issuers import keys
from issuers import services as issuer_services
from issuers.models import AuditAction, Role
from issuers.permissions import require_role

logger = logging.getLogger(__name__)


def _audit(batch: BulkBatch, actor: User | None, action: AuditAction, **data: object) -> None:
    issuer_services.record_audit(
        institution_id=batch.issuer.institution_id,
        actor=actor,
        action=action,
        target=str(batch.achievement_version.achievement),
        batch=str(batch.pk),
        **data,
    )


@transaction.atomic(durable=True)
def create_batch(
    *,
    actor: User | None,
    version: AchievementVersion,
    file_name: str,
    data: bytes,
    duplicates: str = DuplicateHandling.SKIP,
    notify: bool = True,
    client: str = "",
) -> BulkBatch:
    """Parse an upload and store it as a dry run: every row, pending, with its errors.

    Awarders and above; replacing earlier badges revokes them, so it needs an editor.
    ``actor=None`` is an API client whose rights the caller checked (``client`` names it in
    the audit log). File-level problems raise ``ValidationError`` and store nothing.
    """
    issuer = version.achievement.issuer
    if actor is not None:
        require_role(
            actor,
            issuer.institution,
            Role.EDITOR if duplicates == DuplicateHandling.REPLACE else Role.AWARDER,
            issuer,
        )
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError(_("Only a published version can be awarded."))
    rows = parse.parse_upload(
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
                identifier_type=r.identifier_type,
                identifier=r.identifier,
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
    _audit(
        batch,
        actor,
        AuditAction.BULK_UPLOADED,
        rows=len(rows),
        file=file_name[:255],
        **({"client": client} if client else {}),
    )
    return batch


# The batches this process issues in a thread (make run), so the embedded sweeper never starts
# a second thread on a batch whose first one is still alive here.
_threads: dict[uuid.UUID, threading.Thread] = {}
_threads_lock = threading.Lock()


def _in_thread(batch_id: uuid.UUID, *, unless_alive: bool = False) -> None:
    def work() -> None:
        try:
            tasks.issue_batch(str(batch_id))
        finally:
            connection.close()
            with _threads_lock:
                if _threads.get(batch_id) is threading.current_thread():
                    del _threads[batch_id]

    with _threads_lock:
        running = _threads.get(batch_id)
        if unless_alive and running is not None and running.is_alive():
            return
        thread = threading.Thread(target=work, name=f"bulk-{batch_id}", daemon=True)
        _threads[batch_id] = thread
        thread.start()


def _enqueue(batch_id: uuid.UUID) -> None:
    if settings.BULK_BACKGROUND_THREAD:  # make run, without a broker
        transaction.on_commit(lambda: _in_thread(batch_id))
        return
    for _n in range(settings.BULK_PARALLEL_TASKS):
        transaction.on_commit(lambda: tasks.issue_batch.delay(str(batch_id)))


def resume_batch(*, batch_id: uuid.UUID) -> None:
    """Issue a running batch whose tasks were lost (the sweeper): as many tasks as
    :func:`start_batch` enqueued, or, without a broker (make run), a thread unless one of this
    process still works on it. Chunks skip rows another task holds, so a batch that was only
    slow is not issued twice."""
    if settings.BULK_BACKGROUND_THREAD:
        _in_thread(batch_id, unless_alive=True)
        return
    for _n in range(settings.BULK_PARALLEL_TASKS):  # so both cores work again
        tasks.issue_batch.delay(str(batch_id))


@transaction.atomic(durable=True)
def start_batch(*, actor: User | None, batch: BulkBatch, client: str = "") -> BulkBatch:
    """Issue a dry-run batch without errors: it becomes ``running`` and tasks take over.
    ``actor=None`` is an API client whose rights the caller checked (``client``)."""
    if actor is not None:
        require_role(actor, batch.issuer.institution, Role.AWARDER, batch.issuer)
    locked = BulkBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.state != BatchState.DRAFT:
        raise ValidationError(_("This upload has already been issued."))
    if locked.error_rows:
        raise ValidationError(_("Fix the rows with errors and upload the file again."))
    unmet = policies.unmet_for(locked.achievement_version)  # they may have changed since
    if unmet:
        raise ValidationError(
            [
                _("This micro-credential does not meet your institution's policies."),
                *(str(issue) for issue in unmet),
            ]
        )
    issuer_services.active_key(
        locked.issuer
    )  # fails before anything starts if nothing can be signed
    statuslist_services.open_lists(locked.issuer)  # so parallel chunks need not create them
    locked.state = BatchState.RUNNING
    locked.started_at = locked.progress_at = timezone.now()
    locked.save(update_fields=["state", "started_at", "progress_at"])
    _audit(
        locked,
        actor,
        AuditAction.BULK_STARTED,
        rows=locked.total_rows,
        **({"client": client} if client else {}),
    )
    _enqueue(locked.pk)
    return locked


def _request(row: BulkRow) -> AwardRequest:
    evidence = (
        (EvidenceItem(url=row.evidence_url, narrative=row.evidence_narrative),)
        if row.evidence_url or row.evidence_narrative
        else ()
    )
    return AwardRequest(
        email=row.email,
        identifier_type=row.identifier_type,
        identifier=row.identifier,
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
    """Award ``rows`` together (``awarding.services.award_badges``) and record each outcome."""
    outcomes = awarding.award_badges(
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


def issue_pending(*, batch_id: uuid.UUID) -> int:
    """Issue chunks of the batch until none is left for this task; returns how many rows it
    took. On PostgreSQL, in ``BULK_LANES`` threads at once (this one included), each with its
    own connection and each chunk still one transaction: while one lane waits on the database
    (psycopg releases the GIL), another signs, so a worker keeps its core busy. Inside a
    transaction (a test) or on SQLite, one lane: other connections would not see the rows."""
    lanes = settings.BULK_LANES
    if lanes <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return _issue_lane(batch_id)
    with ThreadPoolExecutor(max_workers=lanes - 1, thread_name_prefix="bulk-lane") as pool:
        others = [pool.submit(_issue_in_thread, batch_id) for _n in range(lanes - 1)]
        issued = _issue_lane(batch_id)
        return issued + sum(lane.result() for lane in others)


def _issue_lane(batch_id: uuid.UUID) -> int:
    issued = 0
    while taken := issue_chunk(batch_id=batch_id):
        issued += taken
    return issued


def _issue_in_thread(batch_id: uuid.UUID) -> int:
    try:
        return _issue_lane(batch_id)
    finally:
        connection.close()  # this thread's own connection


#: The most rows one chunk takes, whatever ``settings.BULK_CHUNK`` says: a chunk is one
#: transaction holding its rows' locks and its awards in memory while they are signed.
_MAX_CHUNK = 1000


def issue_chunk(*, batch_id: uuid.UUID) -> int:
    """:func:`issue_chunk_once`, run again if it loses a deadlock (its rows are pending again
    after the rollback)."""
    return retrying_deadlocks(lambda: issue_chunk_once(batch_id=batch_id))


@transaction.atomic(durable=True)
def issue_chunk_once(*, batch_id: uuid.UUID) -> int:
    """Award up to ``BULK_CHUNK`` pending rows of a running batch in one transaction.

    Returns how many rows it took (0: none left that another task is not working on).
    Rows locked by another task are skipped, never waited for. The rows are awarded together
    (``awarding.services.award_badges``); a row that fails its checks is marked ``failed`` with the
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
        .order_by("number")[: max(1, min(_MAX_CHUNK, settings.BULK_CHUNK))]
    )
    active = bulk_selectors.active_awards(rows, batch)
    to_award: list[BulkRow] = []
    for row in rows:
        row.attempts += 1
        earlier = bulk_selectors.earlier_awards(row, active)
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
    """Store each row's state, message, award and attempts. On PostgreSQL one
    ``UPDATE … FROM unnest(…)`` for the whole chunk (``bulk_update`` builds a CASE per column
    and row, which costs more than the awards; one UPDATE per row is a statement each to parse,
    plan and run); elsewhere one statement run for all rows."""
    if not rows:
        return
    now = timezone.now()
    table = connection.ops.quote_name(BulkRow._meta.db_table)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(  # nosemgrep: raw-sql-string-formatting - see the next line
                f"UPDATE {table} AS r SET state = o.state, message = o.message, "  # nosec B608  # noqa: S608 - the table name is ours
                "award_id = o.award_id, attempts = o.attempts, updated_at = %s "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::uuid[], %s::smallint[]) "
                "AS o(id, state, message, award_id, attempts) WHERE r.id = o.id",
                [
                    now,
                    [r.pk for r in rows],
                    [r.state for r in rows],
                    [r.message for r in rows],
                    [r.award_id for r in rows],
                    [r.attempts for r in rows],
                ],
            )
        return
    # Values go through their fields, as the ORM would send them: SQLite (the embedded
    # default of `make run`) takes no UUID or aware datetime objects as they are.
    award, updated = BulkRow._meta.get_field("award"), BulkRow._meta.get_field("updated_at")
    stamp = updated.get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.executemany(  # nosemgrep: raw-sql-string-formatting - see the next line
            f"UPDATE {table} SET state = %s, message = %s, award_id = %s, attempts = %s, "  # nosec B608  # noqa: S608 - the table name is ours
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
    record_batch_finished(batch=batch)  # the batch.finished webhook event
    return True


@transaction.atomic(durable=True)
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
    _audit(locked, actor, AuditAction.BULK_CANCELLED, rows=cancelled)
    return locked


@transaction.atomic(durable=True)
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
        _audit(locked, actor, AuditAction.BULK_RETRIED, rows=count)
        _enqueue(locked.pk)
    return count
