"""Public pages that belong to no single app: the home page, health check, stored images."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from issuers.models import Image


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@require_safe
@cache_control(public=True, max_age=31536000, immutable=True)
def image(request: HttpRequest, image_id: UUID) -> HttpResponse:
    """Serve an uploaded image. Its id changes whenever the image does, so it caches forever.

    An SVG (a sanitized badge image) is opened as a document if visited directly, so it gets
    a CSP that runs no script, loads nothing, and sandboxes it (DESIGN.md §9); inline styles
    and ``data:`` images are all a badge needs.
    """
    found = get_object_or_404(Image, pk=image_id)
    response = HttpResponse(bytes(found.data), content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    if found.content_type == "image/svg+xml":
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
        )
    else:
        response["Content-Security-Policy"] = "default-src 'none'"
    return response
