"""``/contexts/microcredential/v1``: Insignia's JSON-LD context for the EU micro-credential
elements (``openbadges.microcredential``), served byte for byte as bundled and pinned, so a
verifier that fetches contexts gets exactly what our credentials were signed with. Readable
from any origin (a browser-based verifier fetches it cross-site); it never changes — a new
version gets a new URL."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from common.http import IMMUTABLE_TEXT
from openbadges import microcredential


@require_safe
def microcredential_context(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(microcredential.context_bytes(), content_type="application/ld+json")
    response["Cache-Control"] = IMMUTABLE_TEXT
    response["Access-Control-Allow-Origin"] = "*"
    response["Link"] = f'<{microcredential.MICROCREDENTIAL_CONTEXT}>; rel="canonical"'
    return response
