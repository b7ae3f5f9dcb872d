"""What every REST API v1 view shares: the base view (the caller, JSON only, the error format
of ``integrations.v1.errors``), input serializers that refuse unknown fields, list queries
with stable cursor paging, and ``Idempotency-Key`` on every POST.

Paging: a list is ordered by (a moment or number, id), ascending, so a client that keeps the
last page's ``next`` sees every later change exactly once more; the cursor is opaque
(base64url of the last row's two values). A page is one query, plus a fixed number of
prefetches, whatever ``limit`` (at most :data:`MAX_LIMIT`).

Idempotency: a POST with an ``Idempotency-Key`` is claimed before it runs (a unique row per
caller and key, ``integrations.v1.services``): a concurrent twin gets 409, a later twin with
the same body gets the first answer again (status and body, ``Idempotent-Replayed: true``),
one with another body 422. Only a successful answer is kept (24 hours); a refused request
frees its key for a corrected retry. The answer is stored just after the operation's own
transaction commits: should the process die in between, the claim lapses after
``services.LEASE`` and the request may run again, except an award, whose key
``awarding.services.award_many`` stores in the awards' own transaction (``scope_key``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final, Literal, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import authentication, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from common.parsers import JSONParser
from integrations.auth import Authenticated, Caller, caller_of
from integrations.v1 import services
from integrations.v1.errors import ApiError, error_response, exception_handler
from issuers.models import Issuer, Membership

MAX_LIMIT: Final = 200
DEFAULT_LIMIT: Final = 50
MAX_KEY: Final = 200
#: The largest value of an integer column (PostgreSQL ``integer``).
MAX_INT: Final = 2**31 - 1

M = TypeVar("M", bound=Model)


class V1View(APIView):
    """A v1 operation: any authenticated caller (each view checks what), JSON in and out,
    every error in the one format."""

    permission_classes = [Authenticated]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return exception_handler


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def client_label(caller: Caller) -> str:
    """What the audit log records of an API caller besides the person (if any)."""
    return "" if caller.kind == "session" else f"{caller.kind}: {caller.label}"[:200]


def reachable_issuers(caller: Caller) -> QuerySet[Issuer]:
    """Every issuer within the caller's reach, whatever it may do there (``Caller.reaches``):
    outside it, an object is answered 404."""
    found = Issuer.objects.all()
    if caller.institution_id is not None:
        found = found.filter(institution_id=caller.institution_id)
    if caller.issuer_ids is not None:
        found = found.filter(pk__in=caller.issuer_ids)
    if caller.user is not None:
        # A person's institution-wide roles reach every issuer there; issuer roles, that one.
        mine = Membership.objects.filter(user=caller.user)
        found = found.filter(
            Q(institution__in=mine.filter(issuer__isnull=True).values("institution"))
            | Q(pk__in=mine.filter(issuer__isnull=False).values("issuer"))
        )
    return found


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


class Input(serializers.Serializer[Any]):
    """An input serializer that refuses fields it does not know (400 naming them): a misspelt
    criterion must not be ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class StrictInputScheme(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """In the OpenAPI document, an ``Input`` admits no property it does not name."""

    target_class = "integrations.v1.common.Input"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        return schema


SLUG_PATTERN: Final = r"^[-a-zA-Z0-9_]+$"


class PageQuery(Input):
    """The query of a list: its page."""

    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, help_text="rows per page"
    )
    cursor = serializers.CharField(
        required=False, max_length=500, help_text="the opaque cursor of a page's `next`"
    )


class CreatedQuery(PageQuery):
    """The query of a list of objects that only have a creation time."""

    created_since = serializers.DateTimeField(required=False, help_text="created at or after")
    created_until = serializers.DateTimeField(required=False, help_text="created before")


class ListQuery(CreatedQuery):
    """The query of every list of an issuer's objects: paging, and the filters they all
    have."""

    issuer = serializers.SlugField(required=False, help_text="only this issuer's (its slug)")
    updated_since = serializers.DateTimeField(
        required=False, help_text="changed at or after (ISO 8601 with a zone)"
    )
    updated_until = serializers.DateTimeField(required=False, help_text="changed before")


def query_of(request: Request, shape: type[Input]) -> dict[str, Any]:
    """The request's query string checked by ``shape`` (400 for anything unknown)."""
    data = shape(data={k: request.query_params.get(k) for k in request.query_params})
    data.is_valid(raise_exception=True)
    values: dict[str, Any] = dict(data.validated_data)
    return values


def filter_times(
    rows: QuerySet[M], query: dict[str, Any], *, created: str, updated: str | None
) -> QuerySet[M]:
    """Apply ``created_since`` … ``updated_until`` to the fields (or annotations) named."""
    if "created_since" in query:
        rows = rows.filter(**{f"{created}__gte": query["created_since"]})
    if "created_until" in query:
        rows = rows.filter(**{f"{created}__lt": query["created_until"]})
    if updated is not None and "updated_since" in query:
        rows = rows.filter(**{f"{updated}__gte": query["updated_since"]})
    if updated is not None and "updated_until" in query:
        rows = rows.filter(**{f"{updated}__lt": query["updated_until"]})
    return rows


# --------------------------------------------------------------------------------------------
# Cursor paging
# --------------------------------------------------------------------------------------------

KeyKind = Literal["datetime", "int"]


def _encode(value: Any, pk: Any) -> str:
    text = json.dumps([value.isoformat() if isinstance(value, datetime) else value, str(pk)])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, kind: KeyKind, model: type[Model]) -> tuple[Any, Any]:
    bad = ApiError(400, "invalid", "This cursor is not one of ours.", {"cursor": ["Invalid."]})
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        key: Any = parse_datetime(value) if kind == "datetime" else int(value)
        if key is None or (kind == "datetime" and key.tzinfo is None):
            raise bad
        if kind == "int" and not 0 <= key <= MAX_INT:
            raise bad
        return key, model._meta.pk.to_python(pk)
    except (ValueError, TypeError, binascii.Error, DjangoValidationError):
        raise bad from None


def page(
    request: Request,
    rows: QuerySet[M],
    query: dict[str, Any],
    *,
    key: str,
    kind: KeyKind,
    render: Callable[[Sequence[M]], list[dict[str, Any]]],
) -> Response:
    """One page of ``rows`` ordered by (``key``, pk), after ``query['cursor']``:
    ``{"results": [...], "next": url | null}``."""
    cursor = query.get("cursor")
    if cursor:
        after, pk = _decode(cursor, kind, rows.model)
        rows = rows.filter(Q(**{f"{key}__gt": after}) | Q(**{key: after, "pk__gt": pk}))
    limit = int(query.get("limit") or DEFAULT_LIMIT)
    found = list(rows.order_by(key, "pk")[: limit + 1])
    shown = found[:limit]
    following: str | None = None
    if len(found) > limit:
        last = shown[-1]
        url = request.build_absolute_uri()
        following = replace_query_param(url, "cursor", _encode(getattr(last, key), last.pk))
    return Response({"results": render(shown), "next": following})


def paged(item: Any, name: str) -> Any:
    """The OpenAPI shape of one page of ``item``."""
    return inline_serializer(
        name=f"{name}Page",
        fields={
            "results": item(many=True),
            "next": serializers.URLField(
                allow_null=True, help_text="the next page; null on the last one"
            ),
        },
    )


# --------------------------------------------------------------------------------------------
# Idempotency-Key
# --------------------------------------------------------------------------------------------

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string up to 200 characters: sending the same request again with "
    "the same key returns the first answer and does nothing twice (kept 24 hours); the same "
    "key with another body is refused (422), and while the first is still running (409).",
)


def caller_scope(caller: Caller, request: Request) -> str:
    """Whose keys these are: an OAuth client (and the person it acts for), an issuer token,
    or a person (staff token or session), within the caller's institution."""
    institution = caller.institution_id or "-"
    if caller.kind == "oauth" and caller.client is not None:
        person = caller.user.pk if caller.user is not None else "-"
        return f"i{institution}:oauth:{caller.client.pk}:u{person}"
    if caller.kind == "issuer_token":
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        digest = hashlib.sha256(header[-1].encode()).hexdigest()[:40] if header else "-"
        return f"i{institution}:token:{digest}"
    person = caller.user.pk if caller.user is not None else "-"
    return f"i{institution}:user:{person}"


def _plain(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "sha256": digest.hexdigest()}
    if hasattr(value, "getlist"):
        return {str(k): [_plain(v) for v in value.getlist(k)] for k in sorted(value.keys())}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def fingerprint(request: Request) -> str:
    """The SHA-256 of the request's method, path and body (files by their digest)."""
    text = json.dumps(
        [request.method, request.path, _plain(request.data)], sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


Handler = Callable[..., Response]


def idempotent(handler: Handler) -> Handler:
    """Make a POST handler honour ``Idempotency-Key`` (see the module docstring)."""

    @functools.wraps(handler)
    def run(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = str(request.headers.get("Idempotency-Key", "")).strip()
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY:
            raise ApiError(
                400,
                "invalid",
                f"An Idempotency-Key has at most {MAX_KEY} characters.",
                {"Idempotency-Key": ["Too long."]},
            )
        scope = caller_scope(caller_of(request), request)
        digest = fingerprint(request)
        claim = services.claim_key(caller=scope, key=key, fingerprint=digest)
        record = claim.record
        if record is not None and record.fingerprint != digest:
            return error_response(
                422, "idempotency_key_reused", "This Idempotency-Key was used for another request."
            )
        if record is None or (not claim.ours and record.completed_at is None):
            return error_response(
                409,
                "idempotency_in_progress",
                "A request with this Idempotency-Key is still running; try again shortly.",
            )
        if not claim.ours:
            replay = Response(record.response, status=record.status_code or 200)
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = handler(view, request, *args, **kwargs)
        except BaseException:
            services.release_key(record=record)
            raise
        if 200 <= response.status_code < 300:
            services.complete_key(record=record, status=response.status_code, body=response.data)
        else:
            services.release_key(record=record)
        return response

    run.idempotent = True  # type: ignore[attr-defined]
    return run


def scope_key(caller: Caller, request: Request, key: str) -> str:
    """The key a service stores with its own writes (``awarding.services.award_many``): this
    caller's key, so two callers' keys never meet."""
    return hashlib.sha256(f"{caller_scope(caller, request)}\n{key}".encode()).hexdigest()
