"""API for the public register of equivalence statements: the published statements of every
institution, filterable, and one statement (a withdrawn one says so).

Public facts (the same as the register's pages), so anyone may read them. Output is built by
a plain function here, never by a serializer.
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from frameworks.catalogue.policies import format_decimal
from frameworks.equivalence import selectors
from frameworks.models import EquivalenceStatement


def statement_json(statement: EquivalenceStatement) -> dict[str, Any]:
    """The public form of a statement (API): the NZQA register's columns and the local
    equivalents."""
    level = statement.level
    local = statement.local_achievement
    return {
        "id": str(statement.pk),
        "url": selectors.statement_url(statement),
        "status": statement.status,
        "title": statement.title,
        "organisation": statement.provider_name,
        "issuer_id": statement.issuer_id or None,
        "achievement_id": statement.achievement_id or None,
        "link": statement.link or None,
        "stated_by": statement.authority or statement.institution.name_en,
        "recognised_by": {
            "name": statement.institution.name_en,
            "slug": statement.institution.slug,
        },
        "level": {"framework": level.framework.code, "level": level.code} if level else None,
        "credits": {
            "amount": format_decimal(statement.credits),
            "system": statement.credit_system.code,
            "unit": statement.credit_system.unit_en,
        }
        if statement.credits is not None and statement.credit_system is not None
        else None,
        "local_equivalent": {
            "id": str(local.pk),
            "name": selectors.local_name(local),
            "slug": local.slug,
        }
        if local is not None
        else None,
        "rationale": statement.rationale,
        "valid_from": statement.valid_from.isoformat(),
        "valid_until": statement.valid_until.isoformat() if statement.valid_until else None,
        "published_at": statement.published_at.isoformat().replace("+00:00", "Z")
        if statement.published_at
        else None,
        "withdrawn_at": statement.withdrawn_at.isoformat().replace("+00:00", "Z")
        if statement.withdrawn_at
        else None,
    }


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
        rows = selectors.public_statements()
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
        return Response({"statements": [statement_json(s) for s in statements]})


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
        return Response(statement_json(selectors.public_statement(statement)))
