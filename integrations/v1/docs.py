"""The OpenAPI document (``/api/schema/``) with the REST API's conventions in its
description, and its rendered reference (``/api/docs/``): Redoc, served from this server (the
``drf-spectacular-sidecar`` package ships it), so the page needs no other origin."""

from __future__ import annotations

from importlib import resources
from typing import Any, Final

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularAPIView

from badges.models import BatchState, RowState, VersionStatus
from badges.selectors import AWARD_STATES

DESCRIPTION: Final = """\
Issue, manage and verify Open Badges 3.0 micro-credentials.

## Credentials

An OAuth 2.0 access token (`Authorization: Bearer …`; client credentials for a system,
authorisation code with PKCE for an app acting for a person), an issuer token
(`Authorization: Bearer ins_…`, one issuer) or a staff member's personal token
(`Authorization: Token …`, acting as that person with their roles). Scopes: `awards:read`,
`awards:write`, `awards:revoke`, `achievements:read`, `achievements:write`,
`webhooks:manage`; an OAuth token may be narrowed to issuers with `issuer:<slug>` scopes.
An object of an issuer outside the credential's reach answers **404**, exactly like one that
does not exist; one within reach without the scope or role answers **403**.

## Errors

Every 4xx and 5xx answer under `/api/v1/` has one shape:

```json
{"error": {"code": "not_found", "message": "Not found.", "details": {}}}
```

`code` is stable: `invalid` (400; `details` maps each refused field, `non_field_errors`
otherwise, to its messages; an unknown field is refused, never ignored), `parse_error`,
`not_authenticated` / `authentication_failed` (401), `permission_denied` (403), `not_found`
(404), `method_not_allowed` (405), `not_acceptable` (406), `count_mismatch`,
`idempotency_in_progress`, `conflict` (409), `too_large` (413), `unsupported_media_type`
(415), `idempotency_key_reused` (422), `server_error` (500), `signing_unavailable` (503).

## Lists

Lists answer `{"results": [...], "next": url | null}`, ordered by last change (or creation,
or number, as each says) and id, ascending; follow `next` until it is null. `limit` is at
most 200 (default 50); the cursor is opaque. A client that keeps the last `next` (or asks
with `updated_since`) sees every later change. Filters: `issuer` (slug), `created_since`,
`created_until`, `updated_since`, `updated_until` (ISO 8601 with a zone), and per list
what it names.

## Idempotency

Every POST accepts an `Idempotency-Key` header (up to 200 characters, per credential): the
same key and body again within 24 hours returns the first answer (same status and body, with
`Idempotent-Replayed: true`) and does nothing twice; the same key with another body is
refused with 422, and while the first request still runs with 409. A refused request (4xx,
5xx) keeps nothing, so it may be corrected and sent again with the same key.
"""

TAGS: Final = [
    {"name": "awards", "description": "Awards, their state and the learners' claims"},
    {"name": "achievements", "description": "Micro-credentials and their versions"},
    {"name": "batches", "description": "Bulk uploads and their rows"},
    {"name": "pathways", "description": "Pathways and their completions"},
    {"name": "issuers", "description": "The issuers a credential reaches"},
]


# Choice sets that share a field name get names of their own (not a hash of their values).
AWARD_STATE_VALUES: Final = list(AWARD_STATES)
BATCH_STATE_VALUES: Final = BatchState.values
ROW_STATE_VALUES: Final = RowState.values
VERSION_STATUS_VALUES: Final = VersionStatus.values
# Also the project's SPECTACULAR_SETTINGS (by these names), so `check --deploy` agrees.
ENUMS: Final = {
    "AwardStateEnum": AWARD_STATE_VALUES,
    "BatchStateEnum": BATCH_STATE_VALUES,
    "RowStateEnum": ROW_STATE_VALUES,
    "VersionStatusEnum": VERSION_STATUS_VALUES,
}


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 document of every API of this server."""

    custom_settings: dict[str, Any] | None = {
        "DESCRIPTION": DESCRIPTION,
        "TAGS": TAGS,
        "ENUM_NAME_OVERRIDES": ENUMS,
    }


REDOC: Final = ("drf_spectacular_sidecar", "static/drf_spectacular_sidecar/redoc/bundles")


@require_GET
def reference(request: HttpRequest) -> HttpResponse:
    """The API reference, rendered by Redoc from the schema."""
    schema = reverse("api_schema") + "?format=json"
    script = reverse("api_docs_redoc")
    page = format_html(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Insignia API</title><style>body {{ margin: 0; padding: 0; }}</style></head>"
        '<body><redoc spec-url="{}"></redoc><script src="{}"></script></body></html>',
        schema,
        script,
    )
    response = HttpResponse(page)
    # Redoc's search runs in a Web Worker it makes from a blob: URL; only this page allows it.
    response["Content-Security-Policy"] = f"{settings.INSIGNIA_CSP}; worker-src 'self' blob:"
    return response


@require_GET
def redoc_script(request: HttpRequest) -> FileResponse:
    """Redoc's standalone bundle, from the installed package."""
    bundle = resources.files(REDOC[0]).joinpath(REDOC[1], "redoc.standalone.js")
    response = FileResponse(bundle.open("rb"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
