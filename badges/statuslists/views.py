"""Status-list endpoints: ``/status/<id>`` and ``/credentials/<id>/status``."""

from __future__ import annotations

import json
import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from badges import credentials
from badges.statuslists import serving
from badges.statuslists.selectors import TTL_SECONDS, status_entries_json


@require_safe
def status_list_view(request: HttpRequest, status_list_id: uuid.UUID) -> HttpResponse:
    """``/status/<id>``: the ``BitstringStatusListCredential``. Public, cacheable for ``ttl``,
    readable from any origin, and no cookies are needed or set (retrieval is not tracked)."""
    try:
        body = serving.current_list_credential(status_list_id)
    except serving.StatusListUnavailable:
        response = HttpResponse(
            '{"error": "status list temporarily unavailable"}',
            status=503,
            content_type="application/json",
        )
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
    response = HttpResponse(body.encode("utf-8"), content_type="application/vc+ld+json")
    response["Cache-Control"] = f"public, max-age={TTL_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def credential_status_view(request: HttpRequest, award_id: uuid.UUID) -> HttpResponse:
    """``/credentials/<id>/status``: the award's revocation and suspension entries (JSON), so
    any Bitstring Status List verifier can check suspension as well."""
    entries = status_entries_json(award_id)
    if not entries:
        raise Http404
    body = {"id": credentials.credential_url(award_id), "credentialStatus": entries}
    response = HttpResponse(json.dumps(body), content_type="application/json")
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response
