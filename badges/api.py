"""API for revocation, suspension and reinstatement (issue #6): one ``APIView`` per operation.

Signed-in staff (session with CSRF, or ``Authorization: Token …``) who are owners or editors
of the award's issuer. An award of an institution the caller is not a member of is 404, the
same answer as an award that does not exist. The response is the award's state after the
change, built by ``badges.state`` — never by a serializer.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from badges import revocation, selectors, status
from badges.models import Award
from badges.state import AwardState, award_state
from issuers import selectors as issuer_selectors
from issuers.models import Institution
from issuers.permissions import is_member

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
        "credential_status": status.status_entries_json(award.pk),
    }


def _user(request: Request) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _award(request: Request, award_id: uuid.UUID) -> Award:
    award = Award.objects.select_related("issuer__institution", "achievement_version").filter(
        pk=award_id
    )
    found = award.first()
    if found is None or not is_member(_user(request), found.issuer.institution):
        raise Http404
    return found


def _errors(error: ValidationError) -> Response:
    return Response({"errors": error.messages}, status=400)


class StatusChangeInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    notify_earner = serializers.BooleanField(required=False, default=False)


class _StatusChangeAPI(APIView):
    change: Any = None

    def post(self, request: Request, award_id: uuid.UUID) -> Response:
        user = _user(request)
        award = _award(request, award_id)
        if not revocation.can_change_status(user, award):
            raise PermissionDenied
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
        award = _award(request, award_id)
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
            awards = revocation.bulk_selection(
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
