"""Bulk uploads (batches) in the REST API v1: list and read them and their rows with each
row's outcome (``awards:read``), create one from a CSV/XLSX upload or from JSON rows and
start it (``awards:write``), through ``awarding.bulk.services``.

A new batch is a dry run, exactly as in the console: every row is checked by the rules an
award is issued under and kept with its errors; nothing is issued until it is started, which
only a batch without errors can be. JSON rows become a CSV with the template's English
headers, so they are read by the same parser as a file (their ``number`` is the row in that
file: the first row is 2). Replacing learners' earlier badges revokes them, so it also needs
``awards:revoke``.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from typing import Any, Final

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from awarding.bulk import parse
from awarding.bulk import selectors as bulk_selectors
from awarding.bulk import services as bulk_services
from badges import credentials, selectors
from badges.models import (
    BatchState,
    BulkBatch,
    BulkRow,
    DuplicateHandling,
    IdentifierType,
    RowState,
)
from common.parsers import JSONParser
from integrations.auth import Caller, caller_of
from integrations.oauth import scopes
from integrations.v1.common import (
    IDEMPOTENCY_KEY,
    Input,
    ListQuery,
    PageQuery,
    V1View,
    client_label,
    filter_times,
    idempotent,
    iso,
    page,
    paged,
    query_of,
    reachable_issuers,
)
from integrations.v1.errors import ApiError, errors

#: JSON row fields, in the order of the CSV template's columns.
ROW_FIELDS: Final = tuple(parse.COLUMNS)


# --------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------


def batch_json(batch: BulkBatch, counts: dict[str, int]) -> dict[str, Any]:
    version = batch.achievement_version
    return {
        "id": str(batch.pk),
        "issuer": batch.issuer.slug,
        "achievement": str(version.achievement_id),
        "version": version.number,
        "file_name": batch.file_name,
        "state": batch.state,
        "duplicates": batch.duplicates,
        "notify": batch.notify,
        "total_rows": batch.total_rows,
        "error_rows": batch.error_rows,
        "rows": {state: counts.get(state, 0) for state in RowState.values},
        "created_at": iso(batch.created_at),
        "started_at": iso(batch.started_at),
        "finished_at": iso(batch.finished_at),
        "updated_at": iso(getattr(batch, "changed_at", None) or batch.created_at),
    }


def batches_json(batches: Sequence[BulkBatch]) -> list[dict[str, Any]]:
    counts = bulk_selectors.row_counts([b.pk for b in batches])
    return [batch_json(b, counts[b.pk]) for b in batches]


def row_json(row: BulkRow) -> dict[str, Any]:
    return {
        "number": row.number,
        "email": row.email,
        **{
            kind.field_name: row.identifier if row.identifier_type == kind else None
            for kind in IdentifierType
        },
        "name": row.name,
        "evidence_url": row.evidence_url,
        "evidence_narrative": row.evidence_narrative,
        "valid_until": iso(row.valid_until),
        "result": row.result,
        "language": row.language,
        "credits_earned": str(row.credits_earned) if row.credits_earned is not None else None,
        "errors": [dict(e) for e in row.errors],
        "state": row.state,
        "message": row.message,
        "award": str(row.award_id) if row.award_id else None,
        "credential": credentials.credential_url(row.award_id) if row.award_id else None,
        "updated_at": iso(row.updated_at),
    }


def rows_json(rows: Sequence[BulkRow]) -> list[dict[str, Any]]:
    return [row_json(r) for r in rows]


class RowCountsOutput(serializers.Serializer[Any]):
    pending = serializers.IntegerField()
    signed = serializers.IntegerField(help_text="issued")
    notified = serializers.IntegerField(help_text="issued and e-mailed")
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="already had the badge")
    cancelled = serializers.IntegerField()


class BatchOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    issuer = serializers.SlugField()
    achievement = serializers.UUIDField()
    version = serializers.IntegerField()
    file_name = serializers.CharField(allow_blank=True)
    state = serializers.ChoiceField(BatchState.values, help_text="draft is the dry run")
    duplicates = serializers.ChoiceField(DuplicateHandling.values)
    notify = serializers.BooleanField()
    total_rows = serializers.IntegerField()
    error_rows = serializers.IntegerField(help_text="rows with errors: it cannot be started")
    rows = RowCountsOutput()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class RowErrorOutput(serializers.Serializer[Any]):
    column = serializers.CharField()
    message = serializers.CharField()


class RowOutput(serializers.Serializer[Any]):
    number = serializers.IntegerField(help_text="the row of the file (the header is row 1)")
    email = serializers.CharField(allow_blank=True)
    student_id = serializers.CharField(allow_null=True, help_text="the student number, if any")
    sourced_id = serializers.CharField(
        allow_null=True, help_text="the institutional sign-in name (eduPersonPrincipalName)"
    )
    name = serializers.CharField(allow_blank=True)
    evidence_url = serializers.CharField(allow_blank=True)
    evidence_narrative = serializers.CharField(allow_blank=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    result = serializers.CharField(allow_blank=True)
    language = serializers.CharField(allow_blank=True)
    credits_earned = serializers.CharField(allow_null=True)
    state = serializers.ChoiceField(RowState.values)
    message = serializers.CharField(allow_blank=True, help_text="why it failed or was skipped")
    award = serializers.UUIDField(allow_null=True)
    credential = serializers.URLField(allow_null=True)
    updated_at = serializers.DateTimeField()

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["errors"] = RowErrorOutput(many=True)  # a name Serializer has for itself
        return fields


# --------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------


class BatchListQuery(ListQuery):
    achievement = serializers.UUIDField(required=False)
    state = serializers.ChoiceField(BatchState.values, required=False)


class BatchListAPI(V1View):
    """The uploads of every issuer the caller reaches, oldest change first."""

    @extend_schema(
        parameters=[BatchListQuery],
        responses={200: paged(BatchOutput, "Batch"), **errors(400, 401)},
        operation_id="list_batches",
        tags=["batches"],
    )
    def get(self, request: Request) -> Response:
        caller = caller_of(request)
        query = query_of(request, BatchListQuery)
        rows = bulk_selectors.batches_in(caller.issuers(scopes.AWARDS_READ))
        if "issuer" in query:
            rows = rows.filter(issuer__slug=query["issuer"])
        if "achievement" in query:
            rows = rows.filter(achievement_version__achievement_id=query["achievement"])
        if "state" in query:
            rows = rows.filter(state=query["state"])
        rows = filter_times(rows, query, created="created_at", updated="changed_at")
        return page(request, rows, query, key="changed_at", kind="datetime", render=batches_json)


def _batch(caller: Caller, batch_id: uuid.UUID, scope: str) -> BulkBatch:
    found = bulk_selectors.batches_in(reachable_issuers(caller)).filter(pk=batch_id).first()
    if found is None:
        raise ApiError(404, "not_found", "No such upload.")
    caller.require(scope, found.issuer)
    return found


class BatchAPI(V1View):
    """One upload with its rows counted by state."""

    @extend_schema(
        responses={200: BatchOutput, **errors(401, 403, 404)},
        operation_id="get_batch",
        tags=["batches"],
    )
    def get(self, request: Request, batch_id: uuid.UUID) -> Response:
        found = _batch(caller_of(request), batch_id, scopes.AWARDS_READ)
        return Response(batches_json([found])[0])


class RowListQuery(PageQuery):
    state = serializers.ChoiceField(RowState.values, required=False)
    updated_since = serializers.DateTimeField(required=False)


class RowListAPI(V1View):
    """The upload's rows as checked, with what became of each, by row number."""

    @extend_schema(
        parameters=[RowListQuery],
        responses={200: paged(RowOutput, "BatchRow"), **errors(400, 401, 403, 404)},
        operation_id="list_batch_rows",
        tags=["batches"],
    )
    def get(self, request: Request, batch_id: uuid.UUID) -> Response:
        found = _batch(caller_of(request), batch_id, scopes.AWARDS_READ)
        query = query_of(request, RowListQuery)
        rows = bulk_selectors.rows_of(found)
        if "state" in query:
            rows = rows.filter(state=query["state"])
        if "updated_since" in query:
            rows = rows.filter(updated_at__gte=query["updated_since"])
        return page(request, rows, query, key="number", kind="int", render=rows_json)


# --------------------------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------------------------


class RowInput(Input):
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    student_id = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="a student number: instead of the e-mail or with it",
    )
    sourced_id = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="an institutional sign-in name (eduPersonPrincipalName): instead of the "
        "e-mail or with it, not with student_id",
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    evidence_url = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    evidence_narrative = serializers.CharField(
        max_length=10_000, required=False, allow_blank=True, default=""
    )
    valid_until = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", help_text="a day"
    )
    result = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    language = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    credits_earned = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default=""
    )


class CreateBatchInput(Input):
    """A batch of JSON rows."""

    achievement = serializers.UUIDField(help_text="its latest published version is awarded")
    rows = serializers.ListField(child=RowInput(), min_length=1, max_length=10_000)
    duplicates = serializers.ChoiceField(
        DuplicateHandling.values, required=False, default=DuplicateHandling.SKIP
    )
    notify = serializers.BooleanField(required=False, default=True, help_text="e-mail them")
    start = serializers.BooleanField(
        required=False, default=False, help_text="start issuing at once if no row has errors"
    )


@extend_schema_field({"type": "string", "format": "binary"})
class UploadField(serializers.FileField):
    """An uploaded file (documented as the binary part it is, not as a URL)."""


class UploadBatchInput(Input):
    """A batch uploaded as a file (``multipart/form-data``)."""

    achievement = serializers.UUIDField(help_text="its latest published version is awarded")
    file = UploadField(help_text="a CSV (UTF-8 or GB18030) or XLSX file")
    duplicates = serializers.ChoiceField(
        DuplicateHandling.values, required=False, default=DuplicateHandling.SKIP
    )
    notify = serializers.BooleanField(required=False, default=True, help_text="e-mail them")
    start = serializers.BooleanField(
        required=False, default=False, help_text="start issuing at once if no row has errors"
    )


def rows_csv(rows: list[dict[str, Any]]) -> bytes:
    """JSON rows as a CSV file with the template's English headers. It is read by our own
    parser, never offered for download, so its values are kept exactly as given (not
    neutralised like ``common.spreadsheets.csv_writer``'s)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # nosemgrep: csv-writer-outside-spreadsheets - see the docstring
    writer.writerow(parse.HEADERS["en"])
    for row in rows:
        writer.writerow([str(row.get(name, "")) for name in ROW_FIELDS])
    return buffer.getvalue().encode("utf-8")


def _start(caller: Caller, batch: BulkBatch) -> BulkBatch:
    bulk_services.start_batch(actor=caller.user, batch=batch, client=client_label(caller))
    return bulk_selectors.batches_in(reachable_issuers(caller)).get(pk=batch.pk)


class CreateBatchAPI(V1View):
    """Upload awards as a dry run (and start issuing them if ``start`` and no row has an
    error): JSON rows, or a file as ``multipart/form-data``."""

    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        request={"application/json": CreateBatchInput, "multipart/form-data": UploadBatchInput},
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: BatchOutput,
            **errors(
                400,
                401,
                403,
                404,
                409,
                413,
                415,
                422,
                503,
                e400="invalid: the file cannot be read, has neither an Email nor an identifier "
                "column, or too many rows "
                "(row errors are kept on the rows instead)",
            ),
        },
        operation_id="create_batch",
        tags=["batches"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        caller = caller_of(request)
        multipart = request.content_type.startswith("multipart/")
        shape: type[Input] = UploadBatchInput if multipart else CreateBatchInput
        data = shape(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        achievement = (
            selectors.achievements_in(reachable_issuers(caller))
            .filter(pk=values["achievement"])
            .first()
        )
        if achievement is None:
            raise ApiError(404, "not_found", "No such micro-credential.")
        caller.require(scopes.AWARDS_WRITE, achievement.issuer)
        if values["duplicates"] == DuplicateHandling.REPLACE:
            caller.require(scopes.AWARDS_REVOKE, achievement.issuer)
        version = selectors.latest_published(achievement)
        if version is None:
            raise ApiError(400, "invalid", "This micro-credential is not published.")
        upload = values.get("file")
        if upload is not None:
            parse.check_upload_size(upload.size or 0)  # before reading it
            content, name = upload.read(), str(upload.name or "upload.csv")
        else:
            content, name = rows_csv(values["rows"]), "api.csv"
        batch = bulk_services.create_batch(
            actor=caller.user,
            version=version,
            file_name=name,
            data=content,
            duplicates=values["duplicates"],
            notify=values["notify"],
            client=client_label(caller),
        )
        if values["start"] and batch.error_rows == 0:
            batch = _start(caller, batch)
        else:
            batch = bulk_selectors.batches_in(reachable_issuers(caller)).get(pk=batch.pk)
        return Response(batches_json([batch])[0], status=201)


class StartBatchAPI(V1View):
    """Start issuing a dry run without errors: rows are issued in the background."""

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: BatchOutput,
            **errors(
                400,
                401,
                403,
                404,
                409,
                422,
                503,
                e400="invalid: already started, or rows with errors",
            ),
        },
        operation_id="start_batch",
        tags=["batches"],
    )
    @idempotent
    def post(self, request: Request, batch_id: uuid.UUID) -> Response:
        caller = caller_of(request)
        found = _batch(caller, batch_id, scopes.AWARDS_WRITE)
        return Response(batches_json([_start(caller, found)])[0])


class BatchesRoute(CreateBatchAPI, BatchListAPI):
    """Bulk uploads: list those the caller reaches (GET), or upload one (POST)."""
