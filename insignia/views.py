"""Pages that belong to no single app: the home page, stored images, and the console's
dashboard of an institution (its issuers and the reach of its badges, which draws on the
badges and learners' apps)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from analytics import reports
from analytics import selectors as analytics_selectors
from analytics.models import Metric
from analytics.selectors import Period, Scope
from issuers import selectors as issuer_selectors
from issuers.console import console, console_context, request_user
from issuers.models import Image, Institution
from issuers.permissions import visible_issuers


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
    """The institution's console home: its issuers, totals over all its badges (awarded,
    claimed, page views, verifications) and the last twelve months, read from the analytics
    rollups (a few queries however many awards); issuers never see who looked."""
    scope = Scope(
        institution=institution, visible=visible_issuers(request_user(request), institution)
    )
    totals = analytics_selectors.all_time(scope)
    end = timezone.localdate()
    start = (end.replace(day=1) - dt.timedelta(days=334)).replace(day=1)
    figures = analytics_selectors.figures(scope, start, end, Period.MONTH)
    chart = reports.over_time(
        "awards",
        _("Issued and claimed in the last 12 months"),
        figures,
        [Metric.ISSUED, Metric.CLAIMED],
    )
    reach = {
        "awards": totals.get(Metric.ISSUED, 0),
        "claimed": totals.get(Metric.CLAIMED, 0),
        "views": totals.get(Metric.VIEWED, 0),
        "verifications": totals.get(Metric.VERIFIED, 0),
    }
    context = console_context(
        request,
        institution,
        issuers=issuer_selectors.issuers_of(institution),
        reach=reach,
        chart=chart,
        query=urlencode(
            {"period": Period.MONTH, "start": f"{start:%Y-%m-%d}", "end": f"{end:%Y-%m-%d}"}
        ),
    )
    return render(request, "manage/dashboard.html", context)
