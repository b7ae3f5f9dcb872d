"""The Open Badges 3.0 API (OB 3.0 §6; 1EdTech's OpenAPI document in ``openapi/``), under
``/ims/ob/v3p0/``: discovery (open), dynamic client registration (open, rate-limited), and the
learner's credentials and Profile for a wallet the learner approved.

Only an access token of a wallet (``integrations.models.ApiClient.Kind.WALLET``) acting for a
signed-in learner is accepted, and each operation needs its scope (403 without it, with an RFC
6750 ``insufficient_scope`` challenge). An institution's token, an issuer token, a staff token
or a browser session is refused: 401 without a usable bearer token, 403 for an institution's.
Every error is an ``Imsx_StatusInfo`` (``ob3api.imsx``), except registration's, which RFC 7591
defines.

One view per path (the spec puts two operations on ``/credentials`` and on ``/profile``); each
answer is built by a plain function (``ob3api.selectors``, ``ob3api.discovery``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any, ClassVar, Final, cast
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from integrations.auth import Caller, OAuthAuthentication
from integrations.models import ApiClient
from integrations.oauth import scopes as scope_names
from ob3api import discovery, imsx, registration, selectors, services
from openbadges.ob3 import normalize_email
from verification import extract, pipeline, ratelimit

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 100
JSON_TYPES: Final = frozenset({"application/json", "application/vc+ld+json", "application/ld+json"})
OB3_TYPES: Final = frozenset({"OpenBadgeCredential", "AchievementCredential"})
# Registrations per client address per hour: enough for a developer, not for a flood.
REGISTRATIONS_PER_HOUR: Final = 20
DISCOVERIES_PER_MINUTE: Final = 120


class JsonOnly(BaseContentNegotiation):
    """Always JSON, whatever ``Accept`` says (wallets send ``application/ld+json`` too)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> None:
        return None

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)


class BearerToken(OAuthAuthentication):
    """``integrations.auth.OAuthAuthentication`` on the request as Django received it: DOT
    reads ``request.POST``, which on DRF's request would parse the body with the view's
    parsers, and these views read the body as it was sent (JSON or a compact JWS)."""

    def authenticate(self, request: Request) -> tuple[Any, Caller] | None:
        return super().authenticate(cast(Request, request._request))


class WalletToken(BasePermission):
    """A wallet's token, acting for an active learner, with the operation's scope."""

    def has_permission(self, request: Request, view: Any) -> bool:
        caller = request.auth
        if not isinstance(caller, Caller):
            return False  # DRF answers 401: no usable bearer token
        if caller.client is None or caller.client.kind != ApiClient.Kind.WALLET:
            raise exceptions.PermissionDenied(
                "Only an app the learner approved may use the Open Badges API; this token "
                "belongs to an institution's system."
            )
        if caller.user is None or not request.user.is_authenticated:
            raise exceptions.AuthenticationFailed("This token acts for no active learner.")
        scope = view.scopes.get(request.method or "")
        if scope is not None and not caller.has_scope(scope):
            raise imsx.InsufficientScope(scope)
        return True


class Ob3View(APIView):
    """The resource endpoints' common ground; bodies are read as sent (JSON or a JWS)."""

    authentication_classes = [BearerToken]
    permission_classes = [WalletToken]
    renderer_classes = [JSONRenderer]
    parser_classes = []
    content_negotiation_class = JsonOnly
    metadata_class = None  # OPTIONS: 405, like any method the spec does not list
    schema = None  # described by 1EdTech's document (discovery), not by drf-spectacular
    scopes: ClassVar[dict[str, str]] = {}

    def get_exception_handler(self) -> Any:
        return imsx.exception_handler


def _learner(request: Request) -> User:
    caller = request.auth
    if not isinstance(caller, Caller) or caller.user is None:
        raise exceptions.NotAuthenticated
    return caller.user


def _body_text(request: Request) -> str:
    try:
        return bytes(request.body).decode("utf-8")
    except UnicodeDecodeError:
        raise imsx.Invalid("The request body is not UTF-8 text.") from None


def _json_object(text: str) -> dict[str, Any]:
    """A JSON object, read as the verifier reads credentials (no repeated keys, size and
    depth limits)."""
    try:
        return extract.parse_json(text)
    except extract.InputProblem as problem:
        raise imsx.Invalid(problem.message) from None


def _media_type(request: Request) -> str:
    return str(request.content_type or "").split(";", 1)[0].strip().lower()


class DiscoveryAPI(Ob3View):
    """``GET /ims/ob/v3p0/discovery``: the Service Description Document. Never protected."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        retry = ratelimit.hit(
            "ob3-discovery",
            ratelimit.client_key(request._request),
            limit=DISCOVERIES_PER_MINUTE,
        )
        if retry is not None:
            raise exceptions.Throttled(retry)
        return Response(
            discovery.service_description(), headers={"Cache-Control": "public, max-age=3600"}
        )


# --- Credentials -----------------------------------------------------------------------


def _whole_number(params: Any, name: str, default: int, least: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not str(raw).isdigit() or int(raw) < least:
        raise imsx.InvalidQueryParameter(f"{name} must be a whole number of at least {least}.")
    return int(raw)


def _since(raw: str) -> dt.datetime | None:
    if not raw:
        return None
    # A "+01:00" offset arrives as " 01:00" when the client did not percent-encode it.
    try:
        parsed = parse_datetime(raw.strip().replace(" ", "+"))
    except ValueError:
        parsed = None
    if parsed is None:
        raise imsx.InvalidQueryParameter("since must be a date and time (ISO 8601).")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)


def paging_links(*, total: int, offset: int, limit: int, since: str) -> str:
    """The ``Link`` header (RFC 8288) of one page, as OB 3.0 §6.4 asks: ``next`` while the
    list is incomplete, ``last`` and ``first`` always, ``prev`` when ``offset`` > 0."""
    base = discovery.absolute(reverse("ob3api:credentials"))

    def link(at: int, rel: str) -> str:
        query = {"limit": limit, "offset": at, **({"since": since} if since else {})}
        return f'<{base}?{urlencode(query)}>; rel="{rel}"'

    last = ((total - 1) // limit) * limit if total > 0 else 0
    links = []
    if offset + limit < total:
        links.append(link(offset + limit, "next"))
    links.append(link(last, "last"))
    links.append(link(0, "first"))
    if offset > 0:
        links.append(link(max(0, min(offset - limit, last)), "prev"))
    return ", ".join(links)


class CredentialsAPI(Ob3View):
    """``GET /credentials`` (getCredentials) and ``POST /credentials`` (upsertCredential)."""

    scopes: ClassVar[dict[str, str]] = {
        "GET": scope_names.OB_CREDENTIAL_READONLY,
        "HEAD": scope_names.OB_CREDENTIAL_READONLY,
        "POST": scope_names.OB_CREDENTIAL_UPSERT,
    }

    def get(self, request: Request) -> Response:
        params = request.query_params
        limit = min(_whole_number(params, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
        offset = _whole_number(params, "offset", 0, 0)
        raw_since = str(params.get("since") or "")
        page = selectors.credentials_of(
            _learner(request), offset=offset, limit=limit, since=_since(raw_since)
        )
        links = paging_links(total=page.total, offset=offset, limit=limit, since=raw_since)
        return Response(page.as_json(), headers={"X-Total-Count": str(page.total), "Link": links})

    def post(self, request: Request) -> HttpResponse:
        media = _media_type(request)
        document: dict[str, Any] | None = None
        if media in JSON_TYPES:
            text = _body_text(request).strip()
            document = _json_object(text)
            types = document.get("type")
            named = set(types) if isinstance(types, list) else {types}
            if not named & OB3_TYPES:
                raise imsx.Invalid("The body is not an OpenBadgeCredential.")
        elif media == "text/plain":
            text = _body_text(request).strip()
            if not extract.JWS_PATTERN.match(text):
                raise imsx.Invalid("A text/plain body must be one compact JWS (a VC-JWT).")
        else:
            raise exceptions.UnsupportedMediaType(media or "none")
        try:
            report = ratelimit.verify_within_limits(
                request._request, pipeline.VerifyRequest(text=text)
            )
        except ratelimit.Limited as limited:
            raise exceptions.Throttled(limited.retry_after) from None
        try:
            created = services.upsert_credential(user=_learner(request), text=text, report=report)
        except ValidationError as refused:
            raise imsx.Invalid(" ".join(refused.messages)) from None
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        if document is not None:
            return Response(document, status=answer)
        return HttpResponse(text, status=answer, content_type="text/plain; charset=utf-8")


# --- Profile ---------------------------------------------------------------------------


class ProfileAPI(Ob3View):
    """``GET /profile`` (getProfile) and ``PUT /profile`` (putProfile): the learner's Profile.

    A wallet may change the learner's name. The ``id`` and the e-mail address are the
    platform's (an address is added and confirmed in the backpack): a different one is 400.
    Other Profile properties are not kept; the answer shows what is.
    """

    scopes: ClassVar[dict[str, str]] = {
        "GET": scope_names.OB_PROFILE_READONLY,
        "HEAD": scope_names.OB_PROFILE_READONLY,
        "PUT": scope_names.OB_PROFILE_UPDATE,
    }

    def get(self, request: Request) -> Response:
        return Response(selectors.profile_of(_learner(request)))

    def put(self, request: Request) -> Response:
        user = _learner(request)
        if _media_type(request) not in JSON_TYPES:
            raise exceptions.UnsupportedMediaType(_media_type(request) or "none")
        profile = _json_object(_body_text(request))
        types = profile.get("type")
        if "Profile" not in (types if isinstance(types, list) else [types]):
            raise imsx.Invalid("The body is not a Profile (its type must include Profile).")
        if "id" in profile and profile["id"] != selectors.profile_id(user):
            raise imsx.Invalid("The Profile id is the platform's and cannot change.")
        email = profile.get("email")
        if email is not None and (
            not isinstance(email, str) or normalize_email(email) != user.email
        ):
            raise imsx.Invalid("The e-mail address is changed in the backpack, not by an app.")
        name = profile.get("name")
        if name is not None:
            if not isinstance(name, str):
                raise imsx.Invalid("name must be text.")
            try:
                services.update_profile(user=user, name=name)
            except ValidationError as refused:
                raise imsx.Invalid(" ".join(refused.messages)) from None
        return Response(selectors.profile_of(user))


class UnknownAPI(Ob3View):
    """Any other path under ``/ims/ob/v3p0/``: 404 as ``Imsx_StatusInfo``."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound("The Open Badges API has no such endpoint.")


# --- Dynamic client registration (RFC 7591) ---------------------------------------------


def _registration_error(exc: Exception, context: dict[str, Any]) -> Response:
    """RFC 7591 §3.2.2 errors (``error``, ``error_description``), not ``Imsx_StatusInfo``."""
    if isinstance(exc, exceptions.MethodNotAllowed):
        return Response(
            {"error": "invalid_request", "error_description": str(exc.detail)},
            status=status.HTTP_405_METHOD_NOT_ALLOWED,
        )
    return imsx.exception_handler(exc, context)


class RegisterAPI(APIView):
    """``POST /ims/ob/v3p0/register``: a wallet registers itself (RFC 7591; OB 3.0 §6.2).
    No initial access token; a client address may register ``REGISTRATIONS_PER_HOUR``."""

    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    parser_classes = []
    content_negotiation_class = JsonOnly
    metadata_class = None
    schema = None

    def get_exception_handler(self) -> Any:
        return _registration_error

    def post(self, request: Request) -> Response:
        retry = ratelimit.hit(
            "ob3-register",
            ratelimit.client_key(request._request),
            limit=REGISTRATIONS_PER_HOUR,
            window=3600,
        )
        if retry is not None:
            return Response(
                {"error": "invalid_request", "error_description": "Too many registrations."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(retry)},
            )
        try:
            data = json.loads(bytes(request.body).decode("utf-8"))
            asked = registration.parse(data)
            client, secret = services.register_wallet(registration=asked)
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: deep nesting
            return _refused("invalid_client_metadata", "The body must be a JSON object.")
        except registration.RegistrationError as error:
            return Response(error.as_json(), status=status.HTTP_400_BAD_REQUEST)
        except ValidationError as invalid:
            return _refused("invalid_client_metadata", " ".join(invalid.messages))
        application = client.application
        answer: dict[str, Any] = {
            "client_id": application.client_id,
            "client_id_issued_at": int(client.created_at.timestamp()),
            **asked.answer(),
        }
        if secret:
            answer["client_secret"] = secret
            answer["client_secret_expires_at"] = 0  # never
        return Response(
            answer,
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )


def _refused(error: str, description: str) -> Response:
    return Response(
        {"error": error, "error_description": description}, status=status.HTTP_400_BAD_REQUEST
    )
