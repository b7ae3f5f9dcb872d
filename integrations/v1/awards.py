"""The awards API: award one or many learners (``POST /api/v1/achievements/{id}/awards``, with
an ``Idempotency-Key`` so a retried request never awards twice), read an award's state, and
revoke, suspend or reinstate awards. One ``APIView`` per operation; input serializers only
validate, and every answer is built by a plain function, never by a serializer.

Callers: an issuer-scoped API token (``Authorization: Bearer ins_…``) for awarding that
issuer's micro-credentials; or signed-in staff (session with CSRF, or ``Authorization: Token
…``) with the role the operation needs. An object the caller may not see is 404, the same
answer as one that does not exist.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.dateparse import parse_date
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from awarding import rules, services
from awarding.revocation import services as revocation
from awarding.rules import AwardRequest
from badges import selectors
from badges.models import Award
from badges.services import EvidenceItem
from badges.state import AwardState, award_state
from badges.statuslists.selectors import status_entries_json
from common.db import retrying_deadlocks
from integrations.auth import Authenticated, caller_of
from integrations.oauth import scopes
from issuers import selectors as issuer_selectors
from issuers.keys import SigningUnavailable
from issuers.models import Institution, Role

StateSerializer = inline_serializer(
    name="AwardState",
    fields={
        "id": serializers.CharField(help_text="the credential's id"),
        "state": serializers.ChoiceField(["valid", "expired", "suspended", "revoked"]),
        "reason": serializers.CharField(),
        "since": serializers.DateTimeField(allow_null=True),
        "valid_until": serializers.DateTimeField(allow_null=True),
        "credential_status": serializers.ListField(child=serializers.DictField()),
    },
)


def state_json(award: Award, state: AwardState) -> dict[str, Any]:
    """The public facts of an award's state, as the API answers them."""
    return {
        "id": award.credential.get("id", str(award.pk)),
        "state": str(state.state),
        "reason": state.reason,
        "since": state.since.isoformat() if state.since else None,
        "valid_until": award.valid_until.isoformat() if award.valid_until else None,
        "credential_status": status_entries_json(award.pk),
    }


def _user(request: Request) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _errors(error: ValidationError) -> Response:
    return Response({"errors": error.messages}, status=400)


@extend_schema_field(serializers.DateTimeField())
class ExpiryField(serializers.Field[datetime, Any, str, Any]):
    """``valid_until``: a moment with its zone, or a day (``2027-06-30``), which means the end
    of that day in the deployment's time zone (``awarding.rules.expiry_of``), as in the
    console and the CSV upload."""

    def to_internal_value(self, data: Any) -> datetime:
        text = str(data).strip()
        day = parse_date(text) if len(text) == 10 else None
        if day is not None:
            return rules.expiry_of(day)
        return rules.expiry_of(serializers.DateTimeField().to_internal_value(text))

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class AwardApiEvidenceInput(serializers.Serializer[Any]):
    url = serializers.URLField(required=False, allow_blank=True, default="", max_length=2000)
    narrative = serializers.CharField(required=False, allow_blank=True, default="")


class AwardApiItemInput(serializers.Serializer[Any]):
    email = serializers.EmailField()
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    evidence = AwardApiEvidenceInput(many=True, required=False, default=list)
    narrative = serializers.CharField(required=False, allow_blank=True, default="")
    valid_until = ExpiryField(required=False, allow_null=True, default=None)
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


def _requests(values: dict[str, Any]) -> list[AwardRequest]:
    return [
        AwardRequest(
            email=item["email"],
            name=item["name"],
            evidence=tuple(
                EvidenceItem(url=e["url"], narrative=e["narrative"]) for e in item["evidence"]
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

    permission_classes = [Authenticated]

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
        achievement = selectors.achievement_by_id(achievement_id)
        caller = caller_of(request)
        caller.require(scopes.AWARDS_WRITE, achievement.issuer)
        actor = caller.user
        payload = request.data if "awards" in request.data else {"awards": [request.data]}
        data = AwardApiRequestInput(data=payload)
        data.is_valid(raise_exception=True)
        version = selectors.latest_published(achievement)
        if version is None:
            return Response({"errors": ["This micro-credential is not published."]}, status=400)
        body = json.dumps(payload, sort_keys=True, default=str).encode()
        try:
            status, answer = retrying_deadlocks(
                lambda: services.award_many(
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


class StatusChangeInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    notify_earner = serializers.BooleanField(required=False, default=False)


class _StatusChangeAPI(APIView):
    change: Any = None

    def post(self, request: Request, award_id: uuid.UUID) -> Response:
        user = _user(request)
        award = selectors.award_for_api(user, award_id, Role.EDITOR)
        data = StatusChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            award = type(self).change(
                actor=user,
                award=award,
                reason=data.validated_data["reason"],
                notify_earner=data.validated_data["notify_earner"],
                via="api",
            )
        except ValidationError as error:
            return _errors(error)
        return Response(state_json(award, award_state(award)))


_CHANGE_RESPONSES = {
    200: StateSerializer,
    400: OpenApiResponse(description="already in that state, or no reason"),
    403: OpenApiResponse(description="not an owner or editor of the award's issuer"),
    404: OpenApiResponse(description="no such award in your institutions"),
}


class RevokeAwardAPI(_StatusChangeAPI):
    """Revoke an award for good, with a reason."""

    change = staticmethod(revocation.revoke_award)

    @extend_schema(request=StatusChangeInput, responses=_CHANGE_RESPONSES, operation_id="revoke")
    def post(self, request: Request, award_id: uuid.UUID) -> Response:
        return super().post(request, award_id)


class SuspendAwardAPI(_StatusChangeAPI):
    """Suspend an award until it is reinstated."""

    change = staticmethod(revocation.suspend_award)

    @extend_schema(request=StatusChangeInput, responses=_CHANGE_RESPONSES, operation_id="suspend")
    def post(self, request: Request, award_id: uuid.UUID) -> Response:
        return super().post(request, award_id)


class ReinstateAwardAPI(_StatusChangeAPI):
    """Lift a suspension."""

    change = staticmethod(revocation.reinstate_award)

    @extend_schema(request=StatusChangeInput, responses=_CHANGE_RESPONSES, operation_id="reinstate")
    def post(self, request: Request, award_id: uuid.UUID) -> Response:
        return super().post(request, award_id)


class AwardStateAPI(APIView):
    """The award's current state (read from the database, never stale)."""

    @extend_schema(responses={200: StateSerializer}, operation_id="award_state")
    def get(self, request: Request, award_id: uuid.UUID) -> Response:
        award = selectors.award_for_api(_user(request), award_id, None)
        return Response(state_json(award, award_state(award)))


class BulkRevokeInput(serializers.Serializer[Any]):
    credentials = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, max_length=10_000
    )
    achievement = serializers.UUIDField(required=False)
    awarded_from = serializers.DateTimeField(required=False)
    awarded_until = serializers.DateTimeField(required=False)
    reason = serializers.CharField(max_length=1000)
    notify_earner = serializers.BooleanField(required=False, default=False)


class BulkRevokeAPI(APIView):
    """Revoke many awards of one institution at once: by credential ids or e-mails, by
    micro-credential, and/or by award date range (every criterion given must match)."""

    @extend_schema(
        request=BulkRevokeInput,
        responses={
            200: inline_serializer(
                name="BulkRevokeResult",
                fields={
                    "batch": serializers.UUIDField(),
                    "revoked": serializers.IntegerField(),
                    "already_revoked": serializers.IntegerField(),
                },
            ),
            400: OpenApiResponse(description="no criterion, bad reference or too many"),
            403: OpenApiResponse(description="not an owner or editor of every issuer involved"),
        },
        operation_id="bulk_revoke",
    )
    def post(self, request: Request, institution: str) -> Response:
        user = _user(request)
        found: Institution = issuer_selectors.institution_for(user, institution)  # 404 if not ours
        data = BulkRevokeInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        criteria = ("credentials", "achievement", "awarded_from", "awarded_until")
        if not any(values.get(name) for name in criteria):
            return Response({"errors": ["Give at least one criterion."]}, status=400)
        try:
            awards = selectors.awards_matching(
                found,
                achievement=selectors.achievement_of(found, values["achievement"])
                if values.get("achievement")
                else None,
                awarded_from=values.get("awarded_from"),
                awarded_until=values.get("awarded_until"),
                references=values.get("credentials", []),
            )
            result = revocation.bulk_revoke(
                actor=user,
                awards=awards,
                reason=values["reason"],
                notify_earner=values["notify_earner"],
                via="api",
            )
        except ValidationError as error:
            return _errors(error)
        return Response(
            {
                "batch": str(result.batch),
                "revoked": result.revoked,
                "already_revoked": result.already_revoked,
            }
        )
