"""The issuers a caller reaches (REST API v1), with what the caller may do at each: the
slugs every other list filters by."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.auth import Caller, caller_of
from integrations.oauth import scopes
from integrations.v1.common import (
    CreatedQuery,
    V1View,
    filter_times,
    iso,
    page,
    paged,
    query_of,
    reachable_issuers,
)
from integrations.v1.errors import errors
from issuers.models import Issuer


def issuers_json(caller: Caller, issuers: Sequence[Issuer]) -> list[dict[str, Any]]:
    """The issuers with the scopes the caller may use at each (one query per scope)."""
    ids = [issuer.pk for issuer in issuers]
    allowed = {
        scope: set(caller.issuers(scope).filter(pk__in=ids).values_list("pk", flat=True))
        for scope in scopes.INSTITUTION_SCOPES
    }
    return [
        {
            "id": issuer.pk,
            "slug": issuer.slug,
            "institution": issuer.institution.slug,
            "name_en": issuer.name_en,
            "name_zh": issuer.name_zh,
            "url": issuer.url,
            "email": issuer.email,
            "scopes": [scope for scope, found in allowed.items() if issuer.pk in found],
            "created_at": iso(issuer.created_at),
        }
        for issuer in issuers
    ]


class IssuerOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    institution = serializers.SlugField()
    name_en = serializers.CharField()
    name_zh = serializers.CharField(allow_blank=True)
    url = serializers.URLField()
    email = serializers.EmailField()
    scopes = serializers.ListField(
        child=serializers.CharField(), help_text="what this caller may do here"
    )
    created_at = serializers.DateTimeField()


class IssuerListQuery(CreatedQuery):
    """Issuers have no change time of their own: listed by creation only."""


class IssuerListAPI(V1View):
    """The issuers within the caller's reach, oldest first."""

    @extend_schema(
        parameters=[IssuerListQuery],
        responses={200: paged(IssuerOutput, "Issuer"), **errors(400, 401)},
        operation_id="list_issuers",
        tags=["issuers"],
    )
    def get(self, request: Request) -> Response:
        caller = caller_of(request)
        query = query_of(request, IssuerListQuery)
        rows = reachable_issuers(caller).select_related("institution")
        rows = filter_times(rows, query, created="created_at", updated=None)
        return page(
            request,
            rows,
            query,
            key="created_at",
            kind="datetime",
            render=lambda found: issuers_json(caller, found),
        )
