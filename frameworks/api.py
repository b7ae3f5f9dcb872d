"""API for the reference frameworks, a published micro-credential's placement and the
register of equivalence statements.

All are public facts (the same as the public framework and badge pages), so anyone may read
them. Output is built by plain functions here, never by a serializer.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from badges.models import Achievement, VersionStatus
from frameworks import equivalence, export, selectors
from frameworks.models import EquivalenceStatement, Placement
from frameworks.policies import number


def frameworks_json() -> dict[str, Any]:
    return {
        "frameworks": [
            {
                "code": f.code,
                "name": f.name_en,
                "short_name": f.short_name,
                "jurisdiction": f.jurisdiction,
                "levels": [
                    {"code": lv.code, "ordinal": lv.ordinal, "url": export.level_url(lv)}
                    for lv in f.levels.all()
                ],
            }
            for f in selectors.qualification_frameworks().select_related("default_credit_system")
        ],
        "credit_systems": [
            {
                "code": s.code,
                "name": s.name_en,
                "unit": s.unit_en,
                "hours_per_unit_min": number(s.hours_per_unit_min)
                if s.hours_per_unit_min
                else None,
                "hours_per_unit_max": number(s.hours_per_unit_max)
                if s.hours_per_unit_max
                else None,
            }
            for s in selectors.credit_systems()
        ],
    }


def placement_json(placement: Placement) -> dict[str, Any]:
    return {
        "version": placement.version.number,
        "levels": [
            {"framework": p.level.framework.code, "level": p.level.code}
            for p in placement.levels.all()
        ],
        "credits": [
            {"system": c.credit_system.code, "amount": number(c.amount), "primary": c.is_primary}
            for c in placement.credits.all()
        ],
        "notional_hours": number(placement.notional_hours)
        if placement.notional_hours is not None
        else None,
        "learning_outcomes": placement.outcomes("en"),
        "assessment_type": placement.assessment_type,
        "participation": placement.participation,
        "quality_assurance": placement.quality_assurance,
        "prerequisites": placement.prerequisites,
        "stackability": placement.stackability,
        "competencies": [
            {"name": a.item.label, "url": a.item.uri, "code": a.item.code}
            for a in placement.competencies.all()
        ],
    }


class FrameworkListAPI(APIView):
    """Reference qualifications frameworks with their levels, and credit systems."""

    permission_classes = (AllowAny,)

    @extend_schema(
        responses={
            200: inline_serializer(
                name="FrameworkList",
                fields={
                    "frameworks": serializers.ListField(child=serializers.DictField()),
                    "credit_systems": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
        operation_id="frameworks",
    )
    def get(self, request: Request) -> Response:
        return Response(frameworks_json())


class PlacementAPI(APIView):
    """Where the latest published version of a micro-credential sits: levels, credits,
    hours, EU Annex I descriptors and competencies."""

    permission_classes = (AllowAny,)

    @extend_schema(
        responses={
            200: inline_serializer(
                name="FrameworkPlacement",
                fields={
                    "version": serializers.IntegerField(),
                    "levels": serializers.ListField(child=serializers.DictField()),
                    "credits": serializers.ListField(child=serializers.DictField()),
                    "notional_hours": serializers.CharField(allow_null=True),
                    "learning_outcomes": serializers.ListField(child=serializers.CharField()),
                    "competencies": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
        operation_id="achievement_placement",
    )
    def get(self, request: Request, achievement: uuid.UUID) -> Response:
        found = Achievement.objects.filter(pk=achievement).first()
        version = (
            found.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
            if found
            else None
        )
        placement = selectors.placement_of(version) if version else None
        if placement is None:
            raise Http404
        return Response(placement_json(placement))


class EquivalenceListAPI(APIView):
    """Published equivalence statements of every institution (the public register).
    Filters: ``institution`` (slug), ``achievement_id``, ``issuer_id``, ``current=true``."""

    permission_classes = (AllowAny,)

    @extend_schema(
        parameters=[
            OpenApiParameter("institution", str, description="Institution slug"),
            OpenApiParameter("achievement_id", str, description="External achievement id"),
            OpenApiParameter("issuer_id", str, description="External issuer id"),
            OpenApiParameter("current", bool, description="Only those valid today"),
        ],
        responses={
            200: inline_serializer(
                name="EquivalenceList",
                fields={"statements": serializers.ListField(child=serializers.DictField())},
            )
        },
        operation_id="equivalences",
    )
    def get(self, request: Request) -> Response:
        rows = equivalence.public_statements()
        params = request.query_params
        if params.get("institution"):
            rows = rows.filter(institution__slug=params["institution"])
        if params.get("achievement_id"):
            rows = rows.filter(achievement_id=params["achievement_id"])
        if params.get("issuer_id"):
            rows = rows.filter(issuer_id=params["issuer_id"])
        statements = list(rows[:1000])
        if params.get("current", "").lower() in ("1", "true", "yes"):
            statements = [s for s in statements if s.is_current()]
        return Response({"statements": [equivalence.statement_json(s) for s in statements]})


class EquivalenceAPI(APIView):
    """One published (or withdrawn: ``status`` says so) equivalence statement."""

    permission_classes = (AllowAny,)

    @extend_schema(
        responses={
            200: inline_serializer(
                name="Equivalence",
                fields={
                    "id": serializers.UUIDField(),
                    "url": serializers.URLField(),
                    "status": serializers.ChoiceField(choices=["published", "withdrawn"]),
                    "title": serializers.CharField(),
                    "organisation": serializers.CharField(),
                    "issuer_id": serializers.CharField(allow_null=True),
                    "achievement_id": serializers.CharField(allow_null=True),
                    "level": serializers.DictField(allow_null=True),
                    "credits": serializers.DictField(allow_null=True),
                    "local_equivalent": serializers.DictField(allow_null=True),
                    "rationale": serializers.CharField(),
                    "valid_from": serializers.DateField(),
                    "valid_until": serializers.DateField(allow_null=True),
                },
            )
        },
        operation_id="equivalence",
    )
    def get(self, request: Request, statement: uuid.UUID) -> Response:
        found = (
            EquivalenceStatement.objects.select_related(
                "institution", "level__framework", "credit_system", "local_achievement"
            )
            .exclude(status=EquivalenceStatement.Status.DRAFT)
            .filter(pk=statement)
            .first()
        )
        if found is None:
            raise Http404
        return Response(equivalence.statement_json(found))
