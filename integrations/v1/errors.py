"""One error format for every 4xx and 5xx answer of the REST API v1::

    {"error": {"code": "not_found", "message": "Not found.", "details": {}}}

``code`` is a stable machine-readable word (below), ``message`` a sentence for people (in
English, or the caller's language where a service wrote it), ``details`` what the code needs:
the refused fields with their messages for ``invalid``, the matched count for
``count_mismatch``. :func:`exception_handler` turns every exception a v1 view raises into it
(DRF's own, Django's ``Http404``/``PermissionDenied``/``ValidationError``, ``ApiError``,
signing being unavailable, anything unexpected as ``server_error``); every v1 view uses it
(``integrations.v1.common.V1View``), and it may be registered as DRF's ``EXCEPTION_HANDLER``
for the whole project: it answers in this format under ``/api/v1/`` only.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from issuers.keys import SigningUnavailable

logger = logging.getLogger("integrations.v1")

PREFIX: Final = "/api/v1/"

#: The codes, by the status they come with (an operation documents the ones it can answer).
CODES: Final[dict[int, tuple[str, ...]]] = {
    400: ("invalid", "parse_error"),
    401: ("not_authenticated", "authentication_failed"),
    403: ("permission_denied",),
    404: ("not_found",),
    405: ("method_not_allowed",),
    406: ("not_acceptable",),
    409: ("count_mismatch", "idempotency_in_progress", "conflict"),
    413: ("too_large",),
    415: ("unsupported_media_type",),
    422: ("idempotency_key_reused",),
    429: ("throttled",),
    500: ("server_error",),
    503: ("signing_unavailable",),
}


class ApiError(exceptions.APIException):
    """An answer in the v1 error format with a code of its own (``count_mismatch`` …)."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status
        self.error_code = code
        self.message = message
        self.details = details or {}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    return Response(error_body(code, message, details), status=status)


def _plain(detail: Any) -> Any:
    """DRF's ``ErrorDetail`` tree as plain JSON values."""
    if isinstance(detail, dict):
        return {str(k): _plain(v) for k, v in detail.items()}
    if isinstance(detail, list | tuple):
        return [_plain(v) for v in detail]
    return str(detail)


def validation_details(error: DjangoValidationError) -> dict[str, Any]:
    """A Django ``ValidationError`` as ``{field: [messages]}`` (``non_field_errors`` when it
    names no field)."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if k == "__all__" else k): list(v)
            for k, v in error.message_dict.items()
        }
    return {"non_field_errors": list(error.messages)}


def _first_message(details: dict[str, Any]) -> str:
    for value in details.values():
        while isinstance(value, dict) and value:
            value = next(iter(value.values()))
        if isinstance(value, list) and value and isinstance(value[0], str):
            return value[0]
        if isinstance(value, str):
            return value
    return "The request is not valid."


def _from_drf(exc: exceptions.APIException) -> tuple[int, str, str, dict[str, Any]]:
    status = int(exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        plain = _plain(exc.detail)
        details = plain if isinstance(plain, dict) else {"non_field_errors": plain}
        return status, "invalid", _first_message(details), details
    code = {
        exceptions.ParseError: "parse_error",
        exceptions.NotAuthenticated: "not_authenticated",
        exceptions.AuthenticationFailed: "authentication_failed",
        exceptions.PermissionDenied: "permission_denied",
        exceptions.NotFound: "not_found",
        exceptions.MethodNotAllowed: "method_not_allowed",
        exceptions.NotAcceptable: "not_acceptable",
        exceptions.UnsupportedMediaType: "unsupported_media_type",
        exceptions.Throttled: "throttled",
    }.get(type(exc), str(exc.default_code))
    return status, code, str(exc.detail), {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler for v1 views; outside ``/api/v1/`` it is DRF's own."""
    request = context.get("request")
    path = str(getattr(request, "path", ""))
    if not path.startswith(PREFIX):
        return drf_exception_handler(exc, context)
    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        status, code, message, details = exc.status_code, exc.error_code, exc.message, exc.details
    elif isinstance(exc, Http404):
        status, code, message, details = 404, "not_found", "Not found.", {}
    elif isinstance(exc, DjangoPermissionDenied):
        status, code = 403, "permission_denied"
        message, details = "You may not do this here.", {}
    elif isinstance(exc, DjangoValidationError):
        details = validation_details(exc)
        status, code, message = 400, "invalid", _first_message(details)
    elif isinstance(exc, SigningUnavailable):
        status, code, message, details = 503, "signing_unavailable", str(exc), {}
    elif isinstance(exc, RequestDataTooBig):
        status, code, message, details = 413, "too_large", "The request body is too large.", {}
    elif isinstance(exc, TooManyFieldsSent):
        status, code, message, details = 400, "invalid", "Too many fields.", {}
    elif isinstance(exc, exceptions.APIException):
        status, code, message, details = _from_drf(exc)
        answered = drf_exception_handler(exc, context)  # its WWW-Authenticate, Retry-After
        if answered is not None:
            for name in ("WWW-Authenticate", "Retry-After"):
                if name in answered:
                    headers[name] = answered[name]
    else:
        logger.exception("v1 API error on %s", path, exc_info=exc)
        status, code = 500, "server_error"
        message, details = "Something went wrong on our side; nothing more is known.", {}
    response = error_response(status, code, message, details)
    for name, value in headers.items():
        response[name] = value
    return response


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any path under ``/api/v1/`` that names no operation (route it last)."""
    return JsonResponse(error_body("not_found", "No such API operation."), status=404)


# --------------------------------------------------------------------------------------------
# OpenAPI
# --------------------------------------------------------------------------------------------

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(help_text="a stable word: not_found, invalid, …"),
                "message": serializers.CharField(help_text="for people"),
                "details": serializers.DictField(
                    help_text="for ``invalid``: the refused fields and their messages"
                ),
            },
        )
    },
)

_DESCRIPTIONS: Final = {
    400: "invalid: the request was refused (details name each field); nothing was changed",
    401: "not_authenticated / authentication_failed: no valid credential",
    403: "permission_denied: in reach, but the credential or role does not allow this",
    404: "not_found: no such object for this caller (another institution's is the same)",
    409: "a conflict; nothing was changed",
    413: "too_large: the request body is too large",
    415: "unsupported_media_type",
    422: "idempotency_key_reused: this Idempotency-Key was used with another request",
    503: "signing_unavailable: nothing can be signed now; nothing was changed",
}


def errors(*statuses: int, **described: str) -> dict[int, OpenApiResponse]:
    """OpenAPI responses in the error format; ``described`` overrides a description by
    status (``e409="count_mismatch: …"``)."""
    found: dict[int, OpenApiResponse] = {}
    for status in statuses:
        text = described.get(f"e{status}", _DESCRIPTIONS.get(status, ""))
        found[status] = OpenApiResponse(response=ErrorSerializer, description=text)
    return found
