"""Middleware of our own."""

from __future__ import annotations

from collections.abc import Callable

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
