"""API for the reference frameworks and credit systems, and a published micro-credential's
placement.

Both are public facts (the same as the public framework and badge pages), so anyone may read
them. Output is built by plain functions here, never by a serializer.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from badges import selectors as badge_selectors
from frameworks.catalogue import export, selectors
from frameworks.catalogue.policies import format_decimal
from frameworks.models import Placement


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
                "hours_per_unit_min": format_decimal(s.hours_per_unit_min)
                if s.hours_per_unit_min
                else None,
                "hours_per_unit_max": format_decimal(s.hours_per_unit_max)
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
            {
                "system": c.credit_system.code,
                "amount": format_decimal(c.amount),
                "primary": c.is_primary,
            }
            for c in placement.credits.all()
        ],
        "notional_hours": format_decimal(placement.notional_hours)
        if placement.notional_hours is not None
        else None,
        "learning_outcomes": placement.outcomes("en"),
        "assessment_type": placement.assessment_type,
        "assessment_supervision": placement.assessment_supervision,
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
                    # EU Annex I elements: codes (or text); "" when not stated
                    "assessment_type": serializers.CharField(),
                    "assessment_supervision": serializers.CharField(),
                    "participation": serializers.CharField(),
                    "quality_assurance": serializers.CharField(),
                    "prerequisites": serializers.CharField(),
                    "stackability": serializers.CharField(),
                    "competencies": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
        operation_id="achievement_placement",
    )
    def get(self, request: Request, achievement: uuid.UUID) -> Response:
        found = badge_selectors.public_achievement(achievement)  # 404 unless published
        version = badge_selectors.latest_published(found)
        placement = selectors.placement_of(version) if version else None
        if placement is None:
            raise Http404
        return Response(placement_json(placement))
