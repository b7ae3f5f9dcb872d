"""Revoking, suspending and reinstating awards in the REST API v1, one at a time or many at
once (``awards:revoke``; a person also needs to be an owner or editor of the issuer).

Revoking many at once is guarded: every field must be one the operation knows (a misspelt
criterion would otherwise widen the selection), and above :data:`CONFIRM_ABOVE` matched
awards the caller must confirm the number (``expected_count``), which is checked again once
the awards are locked; ``dry_run`` answers the count and a sample and changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from awarding.revocation import services as revocation
from badges import selectors
from badges.models import Award, AwardStatus
from integrations.auth import Caller, caller_of
from integrations.oauth import scopes
from integrations.v1.awards import AwardDetailOutput, AwardOutput, award_detail_json, awards_json
from integrations.v1.common import (
    IDEMPOTENCY_KEY,
    SLUG_PATTERN,
    Input,
    V1View,
    client_label,
    idempotent,
    reachable_issuers,
)
from integrations.v1.errors import ApiError, errors
from issuers.models import Institution

#: Above this many matched awards, a bulk revocation must state ``expected_count``.
CONFIRM_ABOVE: Final = 10
#: How many of the matched awards a dry run shows.
SAMPLE: Final = 10


class StatusChangeInput(Input):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    notify_earner = serializers.BooleanField(required=False, default=False)


class _StatusChangeAPI(V1View):
    change: Any = None

    def post(self, request: Request, award_id: uuid.UUID) -> Response:
        award = selectors.award_with_delivery(award_id)
        caller = caller_of(request)
        caller.require(scopes.AWARDS_REVOKE, award.issuer)
        data = StatusChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        changed: Award = type(self).change(
            actor=caller.user,
            award=award,
            reason=data.validated_data["reason"],
            notify_earner=data.validated_data["notify_earner"],
            via="api",
            client=client_label(caller),
        )
        return Response(award_detail_json(changed))


_CHANGE_RESPONSES = {
    200: AwardDetailOutput,
    **errors(
        400,
        401,
        403,
        404,
        409,
        422,
        e400="invalid: already in that state, or no reason; nothing was changed",
        e403="permission_denied: no awards:revoke, or not an owner or editor of the issuer",
    ),
}


class RevokeAwardAPI(_StatusChangeAPI):
    """Revoke an award for good, with a reason (shown to the learner and to verifiers)."""

    change = staticmethod(revocation.revoke_award)

    @extend_schema(
        request=StatusChangeInput,
        responses=_CHANGE_RESPONSES,
        parameters=[IDEMPOTENCY_KEY],
        operation_id="revoke_award",
        tags=["awards"],
    )
    @idempotent
    def post(self, request: Request, award_id: uuid.UUID) -> Response:
        return super().post(request, award_id)


class SuspendAwardAPI(_StatusChangeAPI):
    """Suspend an award until it is reinstated, with a reason."""

    change = staticmethod(revocation.suspend_award)

    @extend_schema(
        request=StatusChangeInput,
        responses=_CHANGE_RESPONSES,
        parameters=[IDEMPOTENCY_KEY],
        operation_id="suspend_award",
        tags=["awards"],
    )
    @idempotent
    def post(self, request: Request, award_id: uuid.UUID) -> Response:
        return super().post(request, award_id)


class ReinstateAwardAPI(_StatusChangeAPI):
    """Lift a suspension."""

    change = staticmethod(revocation.reinstate_award)

    @extend_schema(
        request=StatusChangeInput,
        responses=_CHANGE_RESPONSES,
        parameters=[IDEMPOTENCY_KEY],
        operation_id="reinstate_award",
        tags=["awards"],
    )
    @idempotent
    def post(self, request: Request, award_id: uuid.UUID) -> Response:
        return super().post(request, award_id)


class BulkRevokeInput(Input):
    credentials = serializers.ListField(
        child=serializers.CharField(max_length=300),
        required=False,
        max_length=10_000,
        help_text="credential ids (URL, urn:uuid or uuid) or learners' e-mail addresses",
    )
    achievement = serializers.UUIDField(required=False, help_text="any version of it")
    awarded_from = serializers.DateTimeField(required=False)
    awarded_until = serializers.DateTimeField(required=False)
    reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", help_text="required"
    )
    notify_earner = serializers.BooleanField(required=False, default=False)
    expected_count = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text=f"the number of awards matched (see dry_run); required above {CONFIRM_ABOVE}",
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="count and show a sample; change nothing"
    )


class BulkRevokeOutput(serializers.Serializer[Any]):
    dry_run = serializers.BooleanField()
    matched = serializers.IntegerField(help_text="awards matching every criterion")
    to_revoke = serializers.IntegerField(help_text="of them, not revoked yet")
    revoked = serializers.IntegerField(help_text="revoked now (0 in a dry run)")
    already_revoked = serializers.IntegerField()
    batch = serializers.UUIDField(allow_null=True, help_text="the revocation's batch id")
    sample = AwardOutput(many=True, help_text="a dry run's first matched awards")


def _institution(caller: Caller, slug: str) -> Institution:
    found = Institution.objects.filter(slug=slug).first()
    if found is None or not reachable_issuers(caller).filter(institution=found).exists():
        raise ApiError(404, "not_found", "Not found.")
    return found


class BulkRevokeAPI(V1View):
    """Revoke many awards of one institution at once: by credential ids or e-mails, by
    micro-credential, and/or by award date range (every criterion given must match)."""

    @extend_schema(
        request=BulkRevokeInput,
        parameters=[
            IDEMPOTENCY_KEY,
            OpenApiParameter("institution", str, OpenApiParameter.PATH, pattern=SLUG_PATTERN),
        ],
        responses={
            200: BulkRevokeOutput,
            **errors(
                400,
                401,
                403,
                404,
                409,
                422,
                e400="invalid: an unknown field, no criterion, a bad reference or too many",
                e403="permission_denied: no awards:revoke, or not an owner or editor of every "
                "issuer involved",
                e409="count_mismatch: details.matched is the number matched, which "
                "expected_count must state; nothing was revoked",
            ),
        },
        operation_id="bulk_revoke",
        tags=["awards"],
    )
    @idempotent
    def post(self, request: Request, institution: str) -> Response:
        caller = caller_of(request)
        found = _institution(caller, institution)
        data = BulkRevokeInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if not caller.has_scope(scopes.AWARDS_REVOKE):
            raise ApiError(403, "permission_denied", "This credential may not revoke awards.")
        criteria = ("credentials", "achievement", "awarded_from", "awarded_until")
        if not any(values.get(name) for name in criteria):
            raise ApiError(
                400,
                "invalid",
                "Give at least one criterion.",
                {"non_field_errors": [f"Give one of: {', '.join(criteria)}."]},
            )
        if not values["dry_run"] and not values["reason"].strip():
            raise ApiError(400, "invalid", "Give a reason.", {"reason": ["Give a reason."]})
        reach = reachable_issuers(caller)
        achievement = None
        if values.get("achievement"):
            achievement = selectors.achievement_of(found, values["achievement"])
            if not caller.reaches(achievement.issuer):
                raise ApiError(404, "not_found", "No such micro-credential.")
        awards = selectors.awards_matching(
            found,
            achievement=achievement,
            awarded_from=values.get("awarded_from"),
            awarded_until=values.get("awarded_until"),
            references=values.get("credentials", []),
        ).filter(issuer__in=reach)
        if awards.exclude(issuer__in=caller.issuers(scopes.AWARDS_REVOKE)).exists():
            raise ApiError(
                403, "permission_denied", "You may not revoke some of the awards matched."
            )
        matched = awards.count()
        expected = values.get("expected_count")
        if values["dry_run"]:
            return Response(self._dry_run(awards, matched))
        if (matched > CONFIRM_ABOVE or expected is not None) and expected != matched:
            raise _mismatch(matched, expected)
        try:
            result = revocation.bulk_revoke(
                actor=caller.user,
                awards=awards,
                reason=values["reason"],
                notify_earner=values["notify_earner"],
                via="api",
                client=client_label(caller),
                expected=matched,
            )
        except revocation.CountChanged as changed:
            raise _mismatch(changed.found, expected) from None
        return Response(
            {
                "dry_run": False,
                "matched": matched,
                "to_revoke": result.revoked,
                "revoked": result.revoked,
                "already_revoked": result.already_revoked,
                "batch": str(result.batch),
                "sample": [],
            }
        )

    @staticmethod
    def _dry_run(awards: Any, matched: int) -> dict[str, Any]:
        revoked = awards.filter(status=AwardStatus.REVOKED).count()
        sample = list(
            awards.select_related("issuer", "achievement_version")
            .prefetch_related("notifications")
            .order_by("pk")[:SAMPLE]
        )
        return {
            "dry_run": True,
            "matched": matched,
            "to_revoke": matched - revoked,
            "revoked": 0,
            "already_revoked": revoked,
            "batch": None,
            "sample": awards_json(sample),
        }


def _mismatch(matched: int, expected: int | None) -> ApiError:
    return ApiError(
        409,
        "count_mismatch",
        f"{matched} awards match; confirm with expected_count={matched} to revoke them "
        "(nothing was revoked).",
        {"matched": matched, "expected_count": expected},
    )
