"""Reads of bulk uploads: the access function for a batch, its progress and result file,
the batches whose tasks were lost, and the learners of a chunk who already hold the badge."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from awarding.bulk import parse
from badges import credentials
from badges.models import (
    Achievement,
    Award,
    AwardStatus,
    BatchState,
    BulkBatch,
    BulkRow,
    DuplicateHandling,
    IdentifierType,
    RowState,
)
from common import spreadsheets
from issuers.models import Institution, Issuer, Role
from issuers.permissions import may_read, require_role


def batch_for(
    user: User, institution: Institution, batch_id: uuid.UUID, role: Role | None
) -> BulkBatch:
    """The upload ``batch_id`` of ``institution`` if ``user`` holds ``role`` for its issuer:
    404 for any other institution's, 403 without the role (``None``: every member)."""
    found = (
        BulkBatch.objects.select_related("issuer", "achievement_version__achievement", "created_by")
        .filter(pk=batch_id, issuer__institution=institution)
        .first()
    )
    if found is None or not may_read(user, institution, found.issuer_id):
        raise Http404  # another institution's, or a sibling issuer's for issuer-scoped staff
    if role is not None:
        require_role(user, institution, role, found.issuer)
    return found


def recent_batches(achievement: Achievement, limit: int = 10) -> QuerySet[BulkBatch]:
    """The achievement's latest uploads, for the upload page."""
    return BulkBatch.objects.filter(achievement_version__achievement=achievement)[:limit]


def stale_batches(*, older_than: timedelta) -> list[uuid.UUID]:
    """Running batches with no progress for ``older_than``: their tasks were lost."""
    cutoff = timezone.now() - older_than
    return list(
        BulkBatch.objects.filter(state=BatchState.RUNNING, progress_at__lte=cutoff).values_list(
            "pk", flat=True
        )
    )


def _learner_keys(email: str, identifier_type: str, identifier: str) -> list[tuple[str, str]]:
    """How a row or an award names its learner: by e-mail, by identifier, or both."""
    keys = [("email", email)] if email else []
    return [*keys, (identifier_type, identifier)] if identifier else keys


def active_awards(rows: list[BulkRow], batch: BulkBatch) -> dict[tuple[str, str], list[Award]]:
    """The chunk's learners' active awards of this achievement (any version), other than
    this batch's own, by e-mail and by identifier (:func:`_learner_keys`): one query per
    chunk. The achievement is one issuer's, so an identifier matches within its institution
    only."""
    if batch.duplicates == DuplicateHandling.ALLOW or not rows:
        return {}
    emails = [row.email for row in rows if row.email]
    identifiers: dict[str, list[str]] = {}
    for row in rows:
        if row.identifier:
            identifiers.setdefault(row.identifier_type, []).append(row.identifier)
    learners = Q(recipient_email__in=emails) if emails else Q(pk__in=[])
    for kind, values in identifiers.items():
        learners |= Q(recipient_identifier_type=kind, recipient_identifier__in=values)
    found: dict[tuple[str, str], list[Award]] = {}
    for award in Award.objects.filter(
        learners,
        achievement_version__achievement_id=batch.achievement_version.achievement_id,
        status=AwardStatus.ACTIVE,
    ).exclude(bulk_row__batch=batch):
        for key in _learner_keys(
            award.recipient_email, award.recipient_identifier_type, award.recipient_identifier
        ):
            found.setdefault(key, []).append(award)
    return found


def holds_badge(batch: BulkBatch) -> Q:
    """A filter on the batch's rows: the row's learner already holds an active award of the
    achievement (any version, not from this batch), by e-mail or by identifier, as
    :func:`active_awards` finds them when issuing. The dry run says which rows duplicate
    handling will skip or replace."""
    awards = Award.objects.filter(
        achievement_version__achievement_id=batch.achievement_version.achievement_id,
        status=AwardStatus.ACTIVE,
    ).exclude(bulk_row__batch=batch)
    by_email = Exists(awards.filter(recipient_email=OuterRef("email")))
    by_identifier = Exists(
        awards.filter(
            recipient_identifier_type=OuterRef("identifier_type"),
            recipient_identifier=OuterRef("identifier"),
        )
    )
    return (~Q(email="") & by_email) | (~Q(identifier="") & by_identifier)


def dry_run_counts(batch: BulkBatch) -> dict[str, int]:
    """In one query, how many rows of a dry run: name a learner who already holds the badge
    (``holding``; 0 when duplicates are allowed) and are at an example address
    (``example``)."""
    wanted = {"example": Count("pk", filter=Q(email__iregex=parse.EXAMPLE_ADDRESS))}
    if batch.duplicates != DuplicateHandling.ALLOW:
        wanted["holding"] = Count("pk", filter=holds_badge(batch))
    counts: dict[str, int] = {"holding": 0}
    counts.update(BulkRow.objects.filter(batch=batch).aggregate(**wanted))
    return counts


def earlier_awards(row: BulkRow, active: dict[tuple[str, str], list[Award]]) -> list[Award]:
    """The row's learner's active awards found by :func:`active_awards`, each once."""
    earlier: dict[object, Award] = {}
    for key in _learner_keys(row.email, row.identifier_type, row.identifier):
        earlier.update((award.pk, award) for award in active.get(key, []))
    return list(earlier.values())


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
    buffer = io.StringIO()
    writer = spreadsheets.csv_writer(buffer)  # names and messages never run as formulas
    kinds = list(IdentifierType)
    writer.writerow(
        [
            _("Row"),
            _("E-mail"),
            _("Name"),
            _("Status"),
            _("Message"),
            _("Credential"),
            *(kind.short_label for kind in kinds),
        ]
    )
    for row in batch.rows.order_by("number"):
        message = row.message or "; ".join(e["message"] for e in row.errors)
        link = credentials.credential_url(row.award_id) if row.award_id else ""
        identifiers = [row.identifier if row.identifier_type == kind else "" for kind in kinds]
        state = RowState(row.state).label
        writer.writerow([row.number, row.email, row.name, state, message, link, *identifiers])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def batches_in(issuers: QuerySet[Issuer]) -> QuerySet[BulkBatch]:
    """The uploads of ``issuers`` with their issuer and version, each with ``changed_at``: its
    last change (created, started, a chunk issued, finished or cancelled), for the REST API."""
    return (
        BulkBatch.objects.filter(issuer__in=issuers)
        .select_related("issuer", "achievement_version")
        .annotate(
            changed_at=Greatest(
                "created_at",
                Coalesce("started_at", "created_at"),
                Coalesce("progress_at", "created_at"),
                Coalesce("finished_at", "created_at"),
            )
        )
    )


def batch_by_id(batch_id: uuid.UUID) -> BulkBatch:
    """Any upload with its issuer and version (and ``changed_at``), for an API caller whose
    reach the view checks next; 404 if none."""
    found = batches_in(Issuer.objects.all()).filter(pk=batch_id).first()
    if found is None:
        raise Http404
    return found


def row_counts(batch_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """Row counts by state for each batch, in one query."""
    counts: dict[uuid.UUID, dict[str, int]] = {
        pk: dict.fromkeys(RowState.values, 0) for pk in batch_ids
    }
    rows = (
        BulkRow.objects.filter(batch_id__in=batch_ids)
        .values_list("batch_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for batch_id, state, n in rows:
        counts[batch_id][state] = n
    return counts


def rows_of(batch: BulkBatch) -> QuerySet[BulkRow]:
    """The upload's rows, as parsed, with their outcomes."""
    return BulkRow.objects.filter(batch=batch)
