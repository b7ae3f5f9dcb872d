"""Refuse a verification flood before any work (research S-19).

A client already over its verifications per minute is answered 429 with ``Retry-After`` by
the first middleware, from one cache read: before sessions, CSRF, the request body, DRF's
parsing or the upload are touched. The views still count and check every request that gets
through (``verification.ratelimit``), so this only makes refusing cheaper; it never lets more
through. A signed-in person is counted by their account, which needs the session, so requests
that carry a session cookie go on to the views' own check.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation

from common.ratelimit import over
from verification.ratelimit import BURST_SECONDS, burst_limit, client_key

API_PATH = "/api/v1/verify"
PAGE_PATH = "/verify"


class VerifyFloodMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        verifies = (path == API_PATH and request.method == "POST") or (
            path == PAGE_PATH and (request.method == "POST" or "url" in request.GET)
        )
        if not verifies or settings.SESSION_COOKIE_NAME in request.COOKIES:
            return self.get_response(request)
        client, per_minute = client_key(request), settings.INSIGNIA_VERIFY_RATE_LIMIT
        retry = over("verify", client, limit=per_minute) or over(
            "verify-burst", client, limit=burst_limit(per_minute), window=BURST_SECONDS
        )
        if retry is None:
            return self.get_response(request)
        if path == API_PATH:
            response: HttpResponse = JsonResponse(
                {"detail": "Too many verification requests; retry later.", "retry_after": retry},
                status=429,
            )
        else:
            translation.activate(translation.get_language_from_request(request))
            response = render(
                request, "verification/too_many.html", {"retry_after": retry}, status=429
            )
        response["Retry-After"] = str(retry)
        response["Cache-Control"] = "no-store"
        return response
