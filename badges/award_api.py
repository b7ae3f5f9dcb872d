"""The awarding API (issue #8): ``POST /api/v1/achievements/{id}/awards``, one or many
awards, with an ``Idempotency-Key`` header so a retried request never awards twice.

Callers: an issuer-scoped API token (``Authorization: Bearer ins_…``), which can award only
that issuer's micro-credentials; or a signed-in staff member (session or DRF token) who is
an awarder of the issuer. An achievement the caller cannot see is 404.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from badges import bulk_services, services, token_services
from badges.models import Achievement, IssuerApiToken
from issuers.keys import SigningUnavailable
from issuers.models import Role
from issuers.permissions import require_role


class IssuerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer ins_…``: an ``IssuerApiToken`` (only its SHA-256 is stored)."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, IssuerApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if len(header) != 2 or header[0] != self.keyword or not header[1].startswith("ins_"):
            return None
        token = (
            IssuerApiToken.objects.select_related("issuer")
            .filter(key_hash=token_services.token_hash(header[1]), revoked_at__isnull=True)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        token_services.record_token_use(token)  # at most one write a minute per token
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class IssuerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "badges.award_api.IssuerTokenAuthentication"
    name = "issuerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "ins_…"}


class TokenOrStaff(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, IssuerApiToken) or bool(
            request.user and request.user.is_authenticated
        )


class AwardApiEvidenceInput(serializers.Serializer[Any]):
    url = serializers.URLField(required=False, allow_blank=True, default="", max_length=2000)
    narrative = serializers.CharField(required=False, allow_blank=True, default="")


class AwardApiItemInput(serializers.Serializer[Any]):
    email = serializers.EmailField()
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    evidence = AwardApiEvidenceInput(many=True, required=False, default=list)
    narrative = serializers.CharField(required=False, allow_blank=True, default="")
    valid_until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    result = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    language = serializers.ChoiceField(["en", "zh-Hans"], required=False, default="")
    credits_earned = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="partial credit (creditsEarned), at most the micro-credential's credit value",
    )


class AwardApiRequestInput(serializers.Serializer[Any]):
    awards = serializers.ListField(child=AwardApiItemInput(), min_length=1, max_length=100)


class AwardApiAwardOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    credential = serializers.URLField(help_text="the credential's id and public page")
    email = serializers.EmailField()
    name = serializers.CharField()
    language = serializers.CharField()
    valid_until = serializers.DateTimeField(allow_null=True)


class AwardApiResultOutput(serializers.Serializer[Any]):
    awards = AwardApiAwardOutput(many=True)


def _requests(values: dict[str, Any]) -> list[bulk_services.AwardRequest]:
    return [
        bulk_services.AwardRequest(
            email=item["email"],
            name=item["name"],
            evidence=tuple(
                services.EvidenceItem(url=e["url"], narrative=e["narrative"])
                for e in item["evidence"]
            ),
            narrative=item["narrative"],
            valid_until=item["valid_until"],
            result=item["result"],
            language=item["language"],
            credits_earned=item["credits_earned"],
        )
        for item in values["awards"]
    ]


class AwardAchievementAPI(APIView):
    """Award the latest published version of a micro-credential to one or many learners."""

    authentication_classes = [
        IssuerTokenAuthentication,
        authentication.SessionAuthentication,
        authentication.TokenAuthentication,
    ]
    permission_classes = [TokenOrStaff]

    @extend_schema(
        request=AwardApiRequestInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Any unique string; the same key returns the first answer and "
                "never awards twice.",
            )
        ],
        responses={
            201: AwardApiResultOutput,
            400: OpenApiResponse(description="errors by index; nothing was awarded"),
            404: OpenApiResponse(description="no such micro-credential for this caller"),
            422: OpenApiResponse(description="the Idempotency-Key was used for another body"),
            503: OpenApiResponse(description="signing is unavailable; nothing was awarded"),
        },
        operation_id="award_achievement",
    )
    def post(self, request: Request, achievement_id: uuid.UUID) -> Response:
        achievement = (
            Achievement.objects.select_related("issuer__institution")
            .filter(pk=achievement_id)
            .first()
        )
        if achievement is None:
            raise Http404
        actor: User | None = None
        if isinstance(request.auth, IssuerApiToken):
            if request.auth.issuer_id != achievement.issuer_id:
                raise Http404  # the token's issuer only
        elif isinstance(request.user, User):
            actor = request.user
            try:
                require_role(
                    actor, achievement.issuer.institution, Role.AWARDER, achievement.issuer
                )
            except PermissionDenied:
                raise Http404 from None
        else:  # pragma: no cover - TokenOrStaff let nobody else in
            raise Http404
        payload = request.data if "awards" in request.data else {"awards": [request.data]}
        data = AwardApiRequestInput(data=payload)
        data.is_valid(raise_exception=True)
        version = services.latest_published(achievement)
        if version is None:
            return Response({"errors": ["This micro-credential is not published."]}, status=400)
        body = json.dumps(payload, sort_keys=True, default=str).encode()
        try:
            status, answer = bulk_services.retrying_deadlocks(
                lambda: bulk_services.award_many(
                    actor=actor,
                    version=version,
                    requests=_requests(data.validated_data),
                    idempotency_key=str(request.headers.get("Idempotency-Key", "")).strip(),
                    request_hash=hashlib.sha256(body).hexdigest(),
                )
            )
        except SigningUnavailable as error:
            return Response({"errors": [str(error)]}, status=503)
        return Response(answer, status=status)
