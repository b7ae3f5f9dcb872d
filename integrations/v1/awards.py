"""Awards in the REST API v1: award one or many learners (``POST
/api/v1/achievements/{id}/awards``), list the awards a caller reaches with their state and
the learners' claim state, and read one. Revoking, suspending and reinstating are in
``integrations.v1.revocation``. One ``APIView`` per operation; input serializers only
validate, and every answer is built by a plain function, never by a serializer.

Reach: ``awards:read`` lists and reads, ``awards:write`` awards; an award of an issuer outside
the caller's reach is 404, the same answer as one that does not exist.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from awarding import rules, services
from awarding.rules import AwardRequest
from badges import credentials, selectors
from badges.models import Award, IdentifierType
from badges.notifications.selectors import delivery
from badges.services import EvidenceItem, identifier_json
from badges.state import State, award_state
from badges.statuslists.selectors import status_entries_json
from common.db import retrying_deadlocks
from integrations.auth import caller_of
from integrations.oauth import scopes
from integrations.v1.common import (
    IDEMPOTENCY_KEY,
    Input,
    ListQuery,
    V1View,
    client_label,
    filter_times,
    idempotent,
    iso,
    page,
    paged,
    query_of,
    scope_key,
)
from integrations.v1.errors import error_response, errors
from openbadges.ob3 import normalize_email, normalize_identifier

# --------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------


def state_of(award: Award, now: datetime) -> str:
    """The award's state as the API names it (``badges.selectors.AWARD_STATES``)."""
    found = award_state(award, now=now).state
    if found is State.VALID:
        return "claimed" if award.claimed_at is not None else "issued"
    return str(found)


def award_json(award: Award, now: datetime | None = None) -> dict[str, Any]:
    """One award as the API answers it: who (``email`` and/or ``student_id`` or
    ``sourced_id``; ``null`` for the ones not given), what, its state, and the learner's
    claim state (the e-mails read from ``award.notifications``, prefetched by the lists)."""
    seen = delivery(award)
    version = award.achievement_version
    return {
        "id": str(award.pk),
        "credential": credentials.credential_url(award.pk),
        "issuer": award.issuer.slug,
        "achievement": str(version.achievement_id),
        "version": version.number,
        "email": award.recipient_email or None,
        **identifier_json(award),
        "name": award.recipient_name,
        "language": award.language,
        "awarded_at": iso(award.awarded_at),
        "valid_from": iso(award.valid_from),
        "valid_until": iso(award.valid_until),
        "state": state_of(award, now or timezone.now()),
        "reason": award.status_reason,
        "state_changed_at": iso(award.status_changed_at),
        "claim": {
            "claimed": award.claimed_at is not None,
            "claimed_at": iso(award.claimed_at),
            "email_sent_at": iso(seen["sent_at"]),  # type: ignore[arg-type]
            "email_opened_at": iso(seen["opened_at"]),  # type: ignore[arg-type]
            "email_pending": bool(seen["pending"]),
        },
        "created_at": iso(award.created_at),
        "updated_at": iso(award.updated_at),
    }


def award_detail_json(award: Award) -> dict[str, Any]:
    """An award with both of its status list entries (one more query)."""
    return {**award_json(award), "credential_status": status_entries_json(award.pk)}


def awards_json(awards: Sequence[Award]) -> list[dict[str, Any]]:
    now = timezone.now()
    return [award_json(award, now) for award in awards]


_STATES = list(selectors.AWARD_STATES)
STUDENT_ID_HELP = "the learner's student number, meaningful within the issuer's institution"
SOURCED_ID_HELP = (
    "the learner's institutional sign-in name (eduPersonPrincipalName, e.g. jdoe@uni.ac.nz)"
)


class ClaimOutput(serializers.Serializer[Any]):
    claimed = serializers.BooleanField()
    claimed_at = serializers.DateTimeField(allow_null=True)
    email_sent_at = serializers.DateTimeField(allow_null=True)
    email_opened_at = serializers.DateTimeField(
        allow_null=True, help_text="the e-mail's image was loaded or the badge claimed"
    )
    email_pending = serializers.BooleanField(help_text="an e-mail is still to be sent")


class AwardOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    credential = serializers.URLField(help_text="the credential's id and public page")
    issuer = serializers.SlugField()
    achievement = serializers.UUIDField()
    version = serializers.IntegerField()
    email = serializers.EmailField(allow_null=True, help_text="null when awarded to an identifier")
    student_id = serializers.CharField(allow_null=True, help_text=STUDENT_ID_HELP)
    sourced_id = serializers.CharField(allow_null=True, help_text=SOURCED_ID_HELP)
    name = serializers.CharField(allow_blank=True)
    language = serializers.CharField()
    awarded_at = serializers.DateTimeField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)
    state = serializers.ChoiceField(
        _STATES,
        help_text="issued (valid, not yet claimed), claimed (valid and accepted by the learner), "
        "expired, suspended or revoked",
    )
    reason = serializers.CharField(allow_blank=True, help_text="why revoked or suspended")
    state_changed_at = serializers.DateTimeField(allow_null=True)
    claim = ClaimOutput()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AwardDetailOutput(AwardOutput):
    credential_status = serializers.ListField(
        child=serializers.DictField(),
        help_text="both BitstringStatusListEntry objects: revocation, then suspension",
    )


# --------------------------------------------------------------------------------------------
# Award
# --------------------------------------------------------------------------------------------


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


class AwardApiEvidenceInput(Input):
    url = serializers.URLField(required=False, allow_blank=True, default="", max_length=2000)
    narrative = serializers.CharField(required=False, allow_blank=True, default="")


class AwardApiItemInput(Input):
    """One award: the learner is named by ``email``, by ``student_id`` or ``sourced_id``
    (one of the two), or by the e-mail and one identifier."""

    email = serializers.EmailField(
        required=False,
        allow_blank=True,
        default="",
        help_text="the learner's address; without it the learner gets no e-mail",
    )
    student_id = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300, help_text=STUDENT_ID_HELP
    )
    sourced_id = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300, help_text=SOURCED_ID_HELP
    )
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

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["student_id"].strip() and attrs["sourced_id"].strip():
            raise serializers.ValidationError(
                {"sourced_id": ["Give a student_id or a sourced_id, not both."]}
            )
        return attrs


class AwardApiRequestInput(Input):
    awards = serializers.ListField(child=AwardApiItemInput(), min_length=1, max_length=100)


class AwardApiAwardOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    credential = serializers.URLField(help_text="the credential's id and public page")
    email = serializers.EmailField(allow_null=True, help_text="null when awarded to an identifier")
    student_id = serializers.CharField(allow_null=True, help_text=STUDENT_ID_HELP)
    sourced_id = serializers.CharField(allow_null=True, help_text=SOURCED_ID_HELP)
    name = serializers.CharField(allow_blank=True)
    language = serializers.CharField()
    valid_until = serializers.DateTimeField(allow_null=True)


class AwardApiResultOutput(serializers.Serializer[Any]):
    awards = AwardApiAwardOutput(many=True)


def _request(item: dict[str, Any]) -> AwardRequest:
    identifier_type, identifier = "", ""
    for kind in IdentifierType:
        if item[kind.field_name].strip():
            identifier_type, identifier = kind.value, item[kind.field_name]
    return AwardRequest(
        email=item["email"],
        identifier_type=identifier_type,
        identifier=identifier,
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


def _requests(values: dict[str, Any]) -> list[AwardRequest]:
    return [_request(item) for item in values["awards"]]


def _named_as_given(refused: Any, items: list[dict[str, Any]]) -> Any:
    """The refusals of ``awarding.rules`` with an ``identifier`` error put under the field the
    item gave it in (``student_id`` or ``sourced_id``)."""
    if not isinstance(refused, list):
        return refused
    for entry in refused:
        errors = entry.get("errors") if isinstance(entry, dict) else None
        if not isinstance(errors, dict) or "identifier" not in errors:
            continue
        item = items[entry["index"]]
        field = next((k.field_name for k in IdentifierType if item[k.field_name].strip()), "")
        if field:
            errors[field] = errors.pop("identifier")
    return refused


class AwardAchievementAPI(V1View):
    """Award the latest published version of a micro-credential to one or many learners (all
    or nothing)."""

    @extend_schema(
        request=AwardApiRequestInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: AwardApiResultOutput,
            **errors(
                400,
                401,
                403,
                404,
                409,
                422,
                503,
                e400="invalid: details.awards lists the refused awards by index; nothing was "
                "awarded",
            ),
        },
        description='One award (the fields of an item) or `{"awards": [...]}` (up to 100). '
        "Each names its learner by `email`, by `student_id` or `sourced_id`, or by the "
        "e-mail and one identifier; a learner named only by an identifier gets no e-mail "
        "and finds the badge by signing in through the institution.",
        operation_id="award_achievement",
        tags=["awards"],
    )
    @idempotent
    def post(self, request: Request, achievement_id: uuid.UUID) -> Response:
        achievement = selectors.achievement_by_id(achievement_id)
        caller = caller_of(request)
        caller.require(scopes.AWARDS_WRITE, achievement.issuer)
        single = not (isinstance(request.data, dict) and "awards" in request.data)
        payload = {"awards": [request.data]} if single else request.data
        data = AwardApiRequestInput(data=payload)
        data.is_valid(raise_exception=True)
        version = selectors.latest_published(achievement)
        if version is None:
            return error_response(400, "invalid", "This micro-credential is not published.")
        key = str(request.headers.get("Idempotency-Key", "")).strip()
        body = json.dumps(payload, sort_keys=True, default=str).encode()
        status, answer = retrying_deadlocks(
            lambda: services.award_many(
                actor=caller.user,
                version=version,
                requests=_requests(data.validated_data),
                idempotency_key=scope_key(caller, request, key) if key else "",
                request_hash=hashlib.sha256(body).hexdigest(),
                client=client_label(caller),
            )
        )
        if status == 422:
            return error_response(
                422, "idempotency_key_reused", "This Idempotency-Key was used for another request."
            )
        if status >= 400:
            refused = _named_as_given(answer.get("errors", []), data.validated_data["awards"])
            return error_response(
                status,
                "invalid",
                "Some awards were refused; nothing was awarded.",
                {"awards": refused},
            )
        return Response(answer, status=status)


# --------------------------------------------------------------------------------------------
# List and read
# --------------------------------------------------------------------------------------------


class AwardListQuery(ListQuery):
    achievement = serializers.UUIDField(required=False, help_text="only awards of this one")
    state = serializers.ChoiceField(_STATES, required=False)
    email = serializers.EmailField(required=False, help_text="the learner's address")
    student_id = serializers.CharField(
        required=False, max_length=300, help_text="the learner's student number"
    )
    sourced_id = serializers.CharField(
        required=False, max_length=300, help_text="the learner's institutional sign-in name"
    )


class AwardListAPI(V1View):
    """The awards of every issuer the caller reaches, oldest change first."""

    @extend_schema(
        parameters=[AwardListQuery],
        responses={200: paged(AwardOutput, "Award"), **errors(400, 401)},
        operation_id="list_awards",
        tags=["awards"],
    )
    def get(self, request: Request) -> Response:
        caller = caller_of(request)
        query = query_of(request, AwardListQuery)
        rows = selectors.awards_in(caller.issuers(scopes.AWARDS_READ))
        if "issuer" in query:
            rows = rows.filter(issuer__slug=query["issuer"])
        if "achievement" in query:
            rows = rows.filter(achievement_version__achievement_id=query["achievement"])
        if "state" in query:
            rows = selectors.awards_in_state(rows, query["state"])
        if "email" in query:
            rows = rows.filter(recipient_email=normalize_email(query["email"]))
        for kind in IdentifierType:
            if kind.field_name in query:
                rows = rows.filter(
                    recipient_identifier_type=kind,
                    recipient_identifier=normalize_identifier(kind, query[kind.field_name]),
                )
        rows = filter_times(rows, query, created="created_at", updated="updated_at")
        return page(request, rows, query, key="updated_at", kind="datetime", render=awards_json)


class AwardAPI(V1View):
    """One award: its state, the learner's claim state and its status list entries."""

    @extend_schema(
        responses={200: AwardDetailOutput, **errors(401, 403, 404)},
        operation_id="get_award",
        tags=["awards"],
    )
    def get(self, request: Request, award_id: uuid.UUID) -> Response:
        award = selectors.award_with_delivery(award_id)
        caller_of(request).require(scopes.AWARDS_READ, award.issuer)
        return Response(award_detail_json(award))
