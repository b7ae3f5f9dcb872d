"""Creating, editing and publishing micro-credentials in the REST API v1
(``achievements:write``, through ``achievements.services``).

A published version never changes: changing the draft of a micro-credential without one
starts the next version from the latest published one, as in the console. The writes record
who made them, so they need a person's credential (a staff token, a session, or an OAuth app
acting for a person); a client acting for itself may read but not write here. Images are
uploaded in the console; the API keeps the version's image.
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from achievements import services
from badges import selectors
from badges.models import AchievementType
from integrations.auth import Caller, caller_of
from integrations.oauth import scopes
from integrations.v1.achievements import (
    AchievementListAPI,
    AchievementOutput,
    ResultDescriptionField,
    VersionOutput,
    achievement_in_reach,
    achievement_json,
    version_json,
)
from integrations.v1.common import (
    IDEMPOTENCY_KEY,
    Input,
    V1View,
    client_label,
    idempotent,
    reachable_issuers,
)
from integrations.v1.errors import ApiError, errors


def _person(caller: Caller) -> User | None:
    """Who the audit log names: the person, or none for a client acting for itself (whose
    label is recorded instead); ``caller.require`` has checked what it may do."""
    return caller.user


class ContentInput(Input):
    """A version's content; every field optional (a draft may be incomplete)."""

    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    name_zh = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description_en = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    description_zh = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    criteria_en = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    criteria_zh = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    evidence_required_en = serializers.CharField(
        required=False, allow_blank=True, max_length=20_000
    )
    evidence_required_zh = serializers.CharField(
        required=False, allow_blank=True, max_length=20_000
    )
    achievement_type = serializers.ChoiceField(AchievementType.values, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    validity_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=36_500
    )
    result_descriptions = serializers.ListField(
        child=ResultDescriptionField(), required=False, max_length=20
    )
    change_note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class CreateAchievementInput(ContentInput):
    issuer = serializers.SlugField(help_text="the issuer's slug")
    slug = serializers.SlugField(max_length=50)


def _content(values: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in values.items() if k not in ("issuer", "slug")}
    if "result_descriptions" in fields:
        fields["result_descriptions"] = [dict(item) for item in fields["result_descriptions"]]
    return fields


class CreateAchievementAPI(V1View):
    """Create a micro-credential with its first draft (publish it next)."""

    @extend_schema(
        request=CreateAchievementInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: AchievementOutput,
            **errors(
                400,
                401,
                403,
                404,
                409,
                422,
                e403="permission_denied: no achievements:write, or not an editor",
            ),
        },
        operation_id="create_achievement",
        tags=["achievements"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        caller = caller_of(request)
        data = CreateAchievementInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        issuer = reachable_issuers(caller).filter(slug=values["issuer"]).first()
        if issuer is None:
            raise ApiError(404, "not_found", "No such issuer.", {"issuer": ["Not found."]})
        caller.require(scopes.ACHIEVEMENTS_WRITE, issuer)
        created = services.create_achievement(
            actor=_person(caller),
            issuer=issuer,
            slug=values["slug"],
            client=client_label(caller),
            **_content(values),
        )
        found = selectors.achievements_in(reachable_issuers(caller)).get(pk=created.pk)
        return Response(achievement_json(found), status=201)


class DraftAPI(V1View):
    """Change the micro-credential's draft; without one, start the next version from the
    latest published one. Only the fields given change."""

    @extend_schema(
        request=ContentInput,
        responses={200: VersionOutput, **errors(400, 401, 403, 404)},
        operation_id="update_draft",
        tags=["achievements"],
    )
    def patch(self, request: Request, achievement_id: uuid.UUID) -> Response:
        caller = caller_of(request)
        found = achievement_in_reach(caller, achievement_id, scopes.ACHIEVEMENTS_WRITE)
        data = ContentInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.save_draft(
            actor=_person(caller),
            achievement=found,
            client=client_label(caller),
            **_content(data.validated_data),
        )
        return Response(version_json(version))


class PublishInput(Input):
    change_note = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, help_text="what changed"
    )


class PublishAPI(V1View):
    """Publish the micro-credential's draft: from now on it is frozen and awarded."""

    @extend_schema(
        request=PublishInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: VersionOutput,
            **errors(
                400,
                401,
                403,
                404,
                409,
                422,
                e400="invalid: what stops the draft from being published (incomplete text, "
                "the institution's policies)",
                e409="conflict: there is no draft to publish",
            ),
        },
        operation_id="publish_draft",
        tags=["achievements"],
    )
    @idempotent
    def post(self, request: Request, achievement_id: uuid.UUID) -> Response:
        caller = caller_of(request)
        found = achievement_in_reach(caller, achievement_id, scopes.ACHIEVEMENTS_WRITE)
        data = PublishInput(data=request.data)
        data.is_valid(raise_exception=True)
        person = _person(caller)
        draft = selectors.draft_of(found)
        if draft is None:
            raise ApiError(409, "conflict", "This micro-credential has no draft to publish.")
        version = services.publish_version(
            actor=person,
            version=draft,
            change_note=data.validated_data.get("change_note"),
            client=client_label(caller),
        )
        return Response(version_json(version))


class AchievementsRoute(AchievementListAPI, CreateAchievementAPI):
    """Micro-credentials: list those the caller reaches (GET), or create one (POST)."""
