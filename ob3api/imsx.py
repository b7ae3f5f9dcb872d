"""Every error of the Open Badges API as an ``Imsx_StatusInfo`` (OB 3.0 §6, the OpenAPI
document's ``Imsx_StatusInfo``): ``imsx_codeMajor`` ``failure``, ``imsx_severity`` ``error``, a
sentence, and one ``imsx_codeMinorField`` from the spec's vocabulary, with the HTTP status the
spec lists for the case (400, 401, 403, 404, 405, 415, 429, 500).

DRF raises the exceptions (authentication, permissions, parsing, 404); :func:`exception_handler`
turns each into this body, keeping DRF's ``WWW-Authenticate`` and ``Retry-After`` headers.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)

# Who reports the code minor: the spec's examples name the provider side "TargetEndSystem".
FIELD_NAME: Final = "TargetEndSystem"

# The spec's code minor for each HTTP status we answer with.
CODE_MINOR: Final[dict[int, str]] = {
    400: "invalid_data",
    401: "unauthorizedrequest",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    406: "not_acceptable",
    415: "invalid_data",
    429: "server_busy",
    500: "internal_server_error",
}


def status_info(description: str, *, code_minor: str) -> dict[str, Any]:
    """An ``Imsx_StatusInfo`` for a failed request."""
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_codeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": FIELD_NAME, "imsx_codeMinorFieldValue": code_minor}
            ]
        },
    }


def error(
    status_code: int,
    description: str,
    *,
    code_minor: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    """An error answer, ready to return from a view."""
    minor = code_minor or CODE_MINOR.get(status_code, "unknown")
    return Response(status_info(description, code_minor=minor), status=status_code, headers=headers)


class InvalidQueryParameter(exceptions.ValidationError):
    """A ``limit``, ``offset`` or ``since`` that is not what the spec allows (400)."""

    code_minor = "invalid_query_parameter"


class InsufficientScope(exceptions.PermissionDenied):
    """The token lacks the operation's scope: 403 with an RFC 6750 §3.1 challenge."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"This token does not carry the scope {scope}.")
        self.scope = scope


class Invalid(exceptions.ValidationError):
    """A request body the API refuses (400 ``invalid_data``)."""


def _description(exc: exceptions.APIException) -> str:
    detail: Any = exc.detail
    if isinstance(detail, list):
        return " ".join(str(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(
            f"{key}: {' '.join(str(v) for v in value) if isinstance(value, list) else value}"
            for key, value in detail.items()
        )
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's handler, answered as ``Imsx_StatusInfo``; anything unexpected is a logged 500."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        log.exception("Open Badges API request failed", exc_info=exc)
        return error(
            status.HTTP_500_INTERNAL_SERVER_ERROR,
            "The request could not be completed because of an error on our side.",
        )
    minor = getattr(exc, "code_minor", "") or CODE_MINOR.get(response.status_code, "unknown")
    response.data = status_info(_description(exc), code_minor=minor)
    if isinstance(exc, InsufficientScope):
        response["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{exc.scope}"'
    return response
