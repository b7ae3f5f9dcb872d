"""Pathways and their completions in the REST API v1 (``achievements:read``).

A pathway belongs to an institution and awards one micro-credential (``target``) when a
learner meets its requirement tree; the caller reaches it through the issuer of that
micro-credential. Pathways change rarely and have no change time of their own, so their
list is paged by creation; completions are paged by their last change (completed, flagged
for review because a counted award was revoked or suspended, reviewed).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from badges import credentials
from frameworks.models import Pathway, PathwayCompletion, RequirementGroup
from frameworks.pathways import selectors as pathway_selectors
from integrations.auth import Caller, caller_of
from integrations.oauth import scopes
from integrations.v1.common import (
    CreatedQuery,
    ListQuery,
    V1View,
    filter_times,
    iso,
    page,
    paged,
    query_of,
    reachable_issuers,
)
from integrations.v1.errors import ApiError, errors
from openbadges.ob3 import normalize_email


def pathway_json(pathway: Pathway) -> dict[str, Any]:
    return {
        "id": str(pathway.pk),
        "title_en": pathway.title_en,
        "title_zh": pathway.title_zh,
        "issuer": pathway.target.issuer.slug,
        "achievement": str(pathway.target_id),
        "active": pathway.is_active,
        "created_at": iso(pathway.created_at),
    }


def pathways_json(pathways: Sequence[Pathway]) -> list[dict[str, Any]]:
    return [pathway_json(p) for p in pathways]


def _group_json(
    group: RequirementGroup, children: dict[int | None, list[RequirementGroup]]
) -> dict[str, Any]:
    level = group.min_level
    return {
        "rule": group.rule,
        "required_count": group.required_count,
        "min_credits": str(group.min_credits) if group.min_credits is not None else None,
        "credit_system": group.credit_system.code if group.credit_system else None,
        "min_level": (
            {"framework": level.framework.code, "code": level.code, "ordinal": level.ordinal}
            if level is not None
            else None
        ),
        "achievements": [str(r.achievement_id) for r in group.requirements.all()],
        "groups": [_group_json(child, children) for child in children.get(group.pk, [])],
    }


def tree_json(groups: list[RequirementGroup]) -> dict[str, Any] | None:
    """The requirement tree from its root, rebuilt from the groups' parents."""
    children: dict[int | None, list[RequirementGroup]] = {}
    for group in groups:
        children.setdefault(group.parent_id, []).append(group)
    roots = children.get(None, [])
    return _group_json(roots[0], children) if roots else None


def completion_json(completion: PathwayCompletion) -> dict[str, Any]:
    return {
        "id": str(completion.pk),
        "pathway": str(completion.pathway_id),
        "email": completion.recipient_email,
        "award": str(completion.award_id),
        "credential": credentials.credential_url(completion.award_id),
        "completed_at": iso(completion.completed_at),
        "needs_review": completion.needs_review,
        "review_flagged_at": iso(completion.review_flagged_at),
        "review_action": completion.review_action,
        "reviewed_at": iso(completion.reviewed_at),
        "review_outcome": completion.review_outcome,
        "updated_at": iso(getattr(completion, "changed_at", None) or completion.completed_at),
    }


def completions_json(completions: Sequence[PathwayCompletion]) -> list[dict[str, Any]]:
    return [completion_json(c) for c in completions]


class PathwayOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    title_en = serializers.CharField()
    title_zh = serializers.CharField(allow_blank=True)
    issuer = serializers.SlugField(help_text="the issuer of what it awards")
    achievement = serializers.UUIDField(help_text="the micro-credential it awards")
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class LevelOutput(serializers.Serializer[Any]):
    framework = serializers.CharField()
    code = serializers.CharField()
    ordinal = serializers.IntegerField()


class GroupOutput(serializers.Serializer[Any]):
    rule = serializers.ChoiceField(RequirementGroup.Rule.values)
    required_count = serializers.IntegerField(allow_null=True)
    min_credits = serializers.CharField(allow_null=True)
    credit_system = serializers.CharField(allow_null=True)
    min_level = LevelOutput(allow_null=True)
    achievements = serializers.ListField(child=serializers.UUIDField())
    groups = serializers.ListField(
        child=serializers.DictField(), help_text="sub-groups, of this same shape"
    )


class PathwayDetailOutput(PathwayOutput):
    requirements = GroupOutput(allow_null=True, help_text="the requirement tree's root")


class CompletionOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    pathway = serializers.UUIDField()
    email = serializers.EmailField()
    award = serializers.UUIDField(help_text="the pathway credential awarded")
    credential = serializers.URLField()
    completed_at = serializers.DateTimeField()
    needs_review = serializers.BooleanField(help_text="a counted award was revoked or suspended")
    review_flagged_at = serializers.DateTimeField(allow_null=True)
    review_action = serializers.CharField(allow_blank=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    review_outcome = serializers.CharField(allow_blank=True)
    updated_at = serializers.DateTimeField()


class PathwayListQuery(CreatedQuery):
    """Pathways have no change time of their own: listed by creation only."""

    issuer = serializers.SlugField(required=False, help_text="of what it awards")
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


class PathwayListAPI(V1View):
    """The pathways of every issuer the caller reaches, oldest first."""

    @extend_schema(
        parameters=[PathwayListQuery],
        responses={200: paged(PathwayOutput, "Pathway"), **errors(400, 401)},
        operation_id="list_pathways",
        tags=["pathways"],
        description="Paged by creation: pathways have no change time of their own.",
    )
    def get(self, request: Request) -> Response:
        caller = caller_of(request)
        query = query_of(request, PathwayListQuery)
        rows = pathway_selectors.pathways_in(caller.issuers(scopes.ACHIEVEMENTS_READ))
        if "issuer" in query:
            rows = rows.filter(target__issuer__slug=query["issuer"])
        if query.get("active") is not None:
            rows = rows.filter(is_active=query["active"])
        rows = filter_times(rows, query, created="created_at", updated=None)
        return page(request, rows, query, key="created_at", kind="datetime", render=pathways_json)


def _pathway(caller: Caller, pathway_id: uuid.UUID) -> Pathway:
    found = pathway_selectors.pathways_in(reachable_issuers(caller)).filter(pk=pathway_id).first()
    if found is None:
        raise ApiError(404, "not_found", "No such pathway.")
    caller.require(scopes.ACHIEVEMENTS_READ, found.target.issuer)
    return found


class PathwayAPI(V1View):
    """One pathway with its requirement tree."""

    @extend_schema(
        responses={200: PathwayDetailOutput, **errors(401, 403, 404)},
        operation_id="get_pathway",
        tags=["pathways"],
    )
    def get(self, request: Request, pathway_id: uuid.UUID) -> Response:
        found = _pathway(caller_of(request), pathway_id)
        tree = tree_json(pathway_selectors.groups_of(found))
        return Response({**pathway_json(found), "requirements": tree})


class CompletionListQuery(ListQuery):
    email = serializers.EmailField(required=False)
    needs_review = serializers.BooleanField(required=False, allow_null=True, default=None)


class CompletionListAPI(V1View):
    """The learners who completed a pathway, oldest change first."""

    @extend_schema(
        parameters=[CompletionListQuery],
        responses={
            200: paged(CompletionOutput, "PathwayCompletion"),
            **errors(400, 401, 403, 404),
        },
        operation_id="list_pathway_completions",
        tags=["pathways"],
    )
    def get(self, request: Request, pathway_id: uuid.UUID) -> Response:
        found = _pathway(caller_of(request), pathway_id)
        query = query_of(request, CompletionListQuery)
        rows = pathway_selectors.completions_of(found)
        if "email" in query:
            rows = rows.filter(recipient_email=normalize_email(query["email"]))
        if query.get("needs_review") is not None:
            rows = rows.filter(needs_review=query["needs_review"])
        rows = filter_times(rows, query, created="completed_at", updated="changed_at")
        return page(
            request, rows, query, key="changed_at", kind="datetime", render=completions_json
        )
