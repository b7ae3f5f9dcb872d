"""The public verify page. Until its issue lands it explains what it will do."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def verify(request: HttpRequest) -> HttpResponse:
    return render(request, "verify.html", {"url": request.GET.get("url", "")})
