"""Pages that belong to no single app: the home page, stored images, and the console's
dashboard of an institution (its issuers and the reach of its badges, which draws on the
badges and learners' apps)."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from badges import selectors as badge_selectors
from earners.selectors import issuer_totals
from issuers import selectors as issuer_selectors
from issuers.console import console, console_context, request_user
from issuers.models import Image, Institution


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


@console()
def dashboard(request: HttpRequest, institution: Institution) -> HttpResponse:
    """The institution's console home: its issuers, and totals over all its badges (awards,
    page views, verifications); issuers never see who looked."""
    awards = badge_selectors.awards_visible_to(request_user(request), institution)
    reach = {"awards": awards.count(), **issuer_totals(awards)}
    context = console_context(
        request, institution, issuers=issuer_selectors.issuers_of(institution), reach=reach
    )
    return render(request, "manage/dashboard.html", context)
