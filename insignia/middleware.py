"""Middleware of our own."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse


class HealthCheckMiddleware:
    """Answer ``/healthz`` before host validation and the https redirect.

    Load balancers and container health checks call the server by its internal address, which
    is (rightly) not in ALLOWED_HOSTS. The answer reveals nothing but "up, database reachable".
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != "/healthz":
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # any database failure means "not healthy", never a 500 page
            return JsonResponse({"status": "database unavailable"}, status=503)
        return JsonResponse({"status": "ok"})


class ContentSecurityPolicyMiddleware:
    """Give every response a Content-Security-Policy (``settings.INSIGNIA_CSP``).

    Its ``frame-ancestors 'none'`` keeps every page out of other sites' frames (clickjacking),
    as ``X-Frame-Options: DENY`` does for older browsers. A view exempt from that header
    (``@xframe_options_exempt``: the pages an LMS opens in a frame) may be framed from
    ``settings.INSIGNIA_LMS_FRAME_ANCESTORS`` instead. A view that sets a policy of its own
    (stored and baked images) keeps it, with the framing rule added when it has none.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        framed = getattr(response, "xframe_options_exempt", False)
        ancestors = f"frame-ancestors {settings.INSIGNIA_LMS_FRAME_ANCESTORS}"
        own = response.get("Content-Security-Policy")
        if own is None:
            policy: str = settings.INSIGNIA_CSP
            if framed:
                policy = policy.replace("frame-ancestors 'none'", ancestors)
            response["Content-Security-Policy"] = policy
        elif "frame-ancestors" not in own:
            rule = ancestors if framed else "frame-ancestors 'none'"
            response["Content-Security-Policy"] = f"{own}; {rule}"
        return response
