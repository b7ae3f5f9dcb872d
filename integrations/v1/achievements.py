"""Micro-credentials (achievements) and their versions in the REST API v1: list and read them
(``achievements:read``; drafts included). Creating, editing and publishing them are in
``integrations.v1.editing``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from badges import credentials, selectors
from badges.models import (
    Achievement,
    AchievementVersion,
    ResultType,
    VersionStatus,
)
from integrations.auth import Caller, caller_of
from integrations.oauth import scopes
from integrations.v1.common import (
    MAX_INT,
    Input,
    ListQuery,
    PageQuery,
    V1View,
    filter_times,
    iso,
    page,
    paged,
    query_of,
    reachable_issuers,
)
from integrations.v1.errors import ApiError, errors

# --------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------


def version_summary(version: AchievementVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "created_at": iso(version.created_at),
        "updated_at": iso(version.updated_at),
        "published_at": iso(version.published_at),
    }


def achievement_json(achievement: Achievement) -> dict[str, Any]:
    """An achievement with its versions' numbers (``versions`` prefetched, by number) and
    ``changed_at`` (``badges.selectors.achievements_in``)."""
    versions = list(achievement.versions.all())
    published = [v for v in versions if v.status == VersionStatus.PUBLISHED]
    drafts = [v for v in versions if v.status == VersionStatus.DRAFT]
    latest = versions[-1] if versions else None
    return {
        "id": str(achievement.pk),
        "issuer": achievement.issuer.slug,
        "slug": achievement.slug,
        "name_en": latest.name_en if latest else "",
        "name_zh": latest.name_zh if latest else "",
        "published_version": published[-1].number if published else None,
        "draft_version": drafts[0].number if drafts else None,
        "versions": [version_summary(v) for v in versions],
        "created_at": iso(achievement.created_at),
        "updated_at": iso(getattr(achievement, "changed_at", None) or achievement.created_at),
    }


def achievements_json(achievements: Sequence[Achievement]) -> list[dict[str, Any]]:
    return [achievement_json(a) for a in achievements]


def version_json(version: AchievementVersion) -> dict[str, Any]:
    """One version with all of its content."""
    image = version.image_id
    return {
        "achievement": str(version.achievement_id),
        **version_summary(version),
        "url": credentials.version_url(version) if version.is_published else None,
        "languages": [str(code) for code in version.languages()],
        "name_en": version.name_en,
        "name_zh": version.name_zh,
        "description_en": version.description_en,
        "description_zh": version.description_zh,
        "criteria_en": version.criteria_en,
        "criteria_zh": version.criteria_zh,
        "evidence_required_en": version.evidence_required_en,
        "evidence_required_zh": version.evidence_required_zh,
        "achievement_type": version.achievement_type,
        "tags": list(version.tags),
        "validity_days": version.validity_days,
        "result_descriptions": list(version.result_descriptions),
        "image": credentials.absolute(reverse("image", args=[image])) if image else None,
        "change_note": version.change_note,
    }


def versions_json(versions: Sequence[AchievementVersion]) -> list[dict[str, Any]]:
    return [version_json(v) for v in versions]


class VersionSummaryOutput(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    status = serializers.ChoiceField(VersionStatus.values)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)


class AchievementOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    issuer = serializers.SlugField()
    slug = serializers.SlugField()
    name_en = serializers.CharField(allow_blank=True, help_text="of the latest version")
    name_zh = serializers.CharField(allow_blank=True)
    published_version = serializers.IntegerField(allow_null=True, help_text="the one awarded")
    draft_version = serializers.IntegerField(allow_null=True)
    versions = VersionSummaryOutput(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="its last change or any version's")


class ResultDescriptionField(Input):
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    name_zh = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    result_type = serializers.ChoiceField(ResultType.values)
    allowed_values = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=50
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs["name_en"].strip() or attrs["name_zh"].strip()):
            raise serializers.ValidationError({"name_en": ["Give a name."]})
        return attrs


class VersionOutput(serializers.Serializer[Any]):
    achievement = serializers.UUIDField()
    number = serializers.IntegerField()
    status = serializers.ChoiceField(VersionStatus.values)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)
    url = serializers.URLField(allow_null=True, help_text="the OB 3.0 Achievement id, published")
    languages = serializers.ListField(child=serializers.CharField())
    name_en = serializers.CharField(allow_blank=True)
    name_zh = serializers.CharField(allow_blank=True)
    description_en = serializers.CharField(allow_blank=True)
    description_zh = serializers.CharField(allow_blank=True)
    criteria_en = serializers.CharField(allow_blank=True, help_text="Markdown")
    criteria_zh = serializers.CharField(allow_blank=True, help_text="Markdown")
    evidence_required_en = serializers.CharField(allow_blank=True)
    evidence_required_zh = serializers.CharField(allow_blank=True)
    achievement_type = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    validity_days = serializers.IntegerField(allow_null=True)
    result_descriptions = ResultDescriptionField(many=True)
    image = serializers.URLField(allow_null=True)
    change_note = serializers.CharField(allow_blank=True)


# --------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------


class AchievementListQuery(ListQuery):
    pass


class AchievementListAPI(V1View):
    """The micro-credentials of every issuer the caller reaches, oldest change first."""

    @extend_schema(
        parameters=[AchievementListQuery],
        responses={200: paged(AchievementOutput, "Achievement"), **errors(400, 401)},
        operation_id="list_achievements",
        tags=["achievements"],
    )
    def get(self, request: Request) -> Response:
        caller = caller_of(request)
        query = query_of(request, AchievementListQuery)
        rows = selectors.achievements_in(caller.issuers(scopes.ACHIEVEMENTS_READ))
        if "issuer" in query:
            rows = rows.filter(issuer__slug=query["issuer"])
        rows = filter_times(rows, query, created="created_at", updated="changed_at")
        return page(
            request, rows, query, key="changed_at", kind="datetime", render=achievements_json
        )


def achievement_in_reach(caller: Caller, achievement_id: uuid.UUID, scope: str) -> Achievement:
    found = selectors.achievements_in(reachable_issuers(caller)).filter(pk=achievement_id).first()
    if found is None:
        raise ApiError(404, "not_found", "No such micro-credential.")
    caller.require(scope, found.issuer)
    return found


class AchievementAPI(V1View):
    """One micro-credential and its versions."""

    @extend_schema(
        responses={200: AchievementOutput, **errors(401, 403, 404)},
        operation_id="get_achievement",
        tags=["achievements"],
    )
    def get(self, request: Request, achievement_id: uuid.UUID) -> Response:
        found = achievement_in_reach(caller_of(request), achievement_id, scopes.ACHIEVEMENTS_READ)
        return Response(achievement_json(found))


class VersionListAPI(V1View):
    """Every version of a micro-credential, drafts included, by number."""

    @extend_schema(
        parameters=[PageQuery],
        responses={200: paged(VersionOutput, "Version"), **errors(400, 401, 403, 404)},
        operation_id="list_versions",
        tags=["achievements"],
    )
    def get(self, request: Request, achievement_id: uuid.UUID) -> Response:
        found = achievement_in_reach(caller_of(request), achievement_id, scopes.ACHIEVEMENTS_READ)
        query = query_of(request, PageQuery)
        rows = selectors.versions_of(found)
        return page(request, rows, query, key="number", kind="int", render=versions_json)


class VersionAPI(V1View):
    """One version with all of its content."""

    @extend_schema(
        responses={200: VersionOutput, **errors(401, 403, 404)},
        operation_id="get_version",
        tags=["achievements"],
    )
    def get(self, request: Request, achievement_id: uuid.UUID, number: int) -> Response:
        found = achievement_in_reach(caller_of(request), achievement_id, scopes.ACHIEVEMENTS_READ)
        if number > MAX_INT:  # no such version, and more than the column holds
            raise ApiError(404, "not_found", "No such version.")
        return Response(version_json(selectors.version_of(found, number)))
