"""Webhook endpoints in the REST API v1 (``webhooks:manage``): an integrator registers where
the institution's events go, rotates the signing secret, sends a test event, and reads and
re-sends deliveries — what the console's webhooks page does, over the API.

An endpoint belongs to an institution; a caller limited to some issuers (a narrowed token, an
issuer token) manages only endpoints limited to those issuers, and must name them when it
creates one. A person (staff token, session) must be an owner. The secret is answered once,
when the endpoint is created or its secret rotated.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from events.models import SUBSCRIBABLE
from integrations.auth import Caller, caller_of
from integrations.oauth import scopes
from integrations.v1.common import (
    IDEMPOTENCY_KEY,
    CreatedQuery,
    Input,
    V1View,
    idempotent,
    iso,
    page,
    paged,
    query_of,
)
from integrations.v1.errors import ApiError, errors
from issuers.models import Institution, Issuer, Role
from issuers.permissions import has_role, is_member
from webhooks import services
from webhooks.models import Delivery, Endpoint


def _institution(caller: Caller, slug: str) -> Institution:
    """The institution of the URL, if the caller may manage its webhooks: 404 out of reach,
    403 without ``webhooks:manage`` (or, for a person, without the owner role)."""
    found = Institution.objects.filter(slug=slug).first()
    if found is None or (caller.institution_id not in (None, found.pk)):
        raise ApiError(404, "not_found", "No such institution.")
    if caller.user is not None and not is_member(caller.user, found):
        raise ApiError(404, "not_found", "No such institution.")
    if not caller.has_scope(scopes.WEBHOOKS_MANAGE):
        raise ApiError(403, "permission_denied", "This credential may not manage webhooks.")
    if caller.user is not None and not has_role(caller.user, found, Role.OWNER):
        raise ApiError(403, "permission_denied", "Only owners manage webhooks.")
    return found


def _endpoints(caller: Caller, institution: Institution) -> QuerySet[Endpoint]:
    """The institution's endpoints this caller manages: all of them, or for a caller limited
    to issuers, those limited to issuers within its reach only."""
    found = Endpoint.objects.filter(institution=institution).prefetch_related("issuers")
    if caller.issuer_ids is None:
        return found
    outside = Issuer.objects.filter(institution=institution).exclude(pk__in=caller.issuer_ids)
    return found.filter(issuers__isnull=False).exclude(issuers__in=outside).distinct()


def _endpoint(caller: Caller, institution: Institution, endpoint_id: uuid.UUID) -> Endpoint:
    found = _endpoints(caller, institution).filter(pk=endpoint_id).first()
    if found is None:
        raise ApiError(404, "not_found", "No such webhook endpoint.")
    return found


def _issuers(caller: Caller, institution: Institution, slugs: Sequence[str]) -> list[Issuer]:
    named = list(Issuer.objects.filter(institution=institution, slug__in=slugs))
    missing = sorted(set(slugs) - {i.slug for i in named})
    if missing or (caller.issuer_ids is not None and not named):
        raise ApiError(
            400,
            "invalid",
            "Name issuers this credential reaches.",
            {"issuers": [f"Unknown or out of reach: {', '.join(missing) or '(none named)'}"]},
        )
    if caller.issuer_ids is not None and any(i.pk not in caller.issuer_ids for i in named):
        raise ApiError(
            400, "invalid", "Name issuers this credential reaches.", {"issuers": ["Out of reach."]}
        )
    return named


def endpoint_json(endpoint: Endpoint, *, secret: bool = False) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": str(endpoint.pk),
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.event_types),
        "issuers": sorted(i.slug for i in endpoint.issuers.all()),
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "disabled_at": iso(endpoint.disabled_at),
        "last_success_at": iso(endpoint.last_success_at),
        "created_at": iso(endpoint.created_at),
        "updated_at": iso(endpoint.updated_at),
    }
    if secret:
        shown["secret"] = endpoint.secret
    return shown


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": str(delivery.pk),
        "webhook_id": f"msg_{delivery.event_id.hex}",
        "type": delivery.event.type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": iso(delivery.next_attempt_at),
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "last_response": delivery.last_response,
        "delivered_at": iso(delivery.delivered_at),
        "created_at": iso(delivery.created_at),
    }


class EndpointOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    url = serializers.URLField()
    description = serializers.CharField(allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(list(SUBSCRIBABLE)), help_text="empty: every event"
    )
    issuers = serializers.ListField(child=serializers.SlugField(), help_text="empty: every one")
    enabled = serializers.BooleanField()
    disabled_reason = serializers.CharField(allow_blank=True)
    disabled_at = serializers.DateTimeField(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EndpointWithSecretOutput(EndpointOutput):
    secret = serializers.CharField(help_text="whsec_…: shown this once; verify signatures with it")


class DeliveryOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    webhook_id = serializers.CharField(help_text="the webhook-id header: stable across retries")
    type = serializers.CharField()
    status = serializers.ChoiceField(["pending", "succeeded", "failed", "dead"])
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    last_response = serializers.CharField(allow_blank=True, help_text="its first 2 KB")
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class EndpointInput(Input):
    url = serializers.URLField(max_length=2000)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(list(SUBSCRIBABLE)), required=False, default=list
    )
    issuers = serializers.ListField(child=serializers.SlugField(), required=False, default=list)


class EndpointChangeInput(Input):
    url = serializers.URLField(max_length=2000, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(list(SUBSCRIBABLE)), required=False
    )
    issuers = serializers.ListField(child=serializers.SlugField(), required=False)
    enabled = serializers.BooleanField(required=False)


TAGS = ["webhooks"]


class EndpointListAPI(V1View):
    @extend_schema(
        parameters=[CreatedQuery],
        responses={200: paged(EndpointOutput, "Endpoint"), **errors(400, 401, 403, 404)},
        operation_id="list_webhook_endpoints",
        tags=TAGS,
    )
    def get(self, request: Request, institution: str) -> Response:
        """The institution's webhook endpoints (those this credential manages)."""
        caller = caller_of(request)
        found = _institution(caller, institution)
        query = query_of(request, CreatedQuery)
        rows = _endpoints(caller, found)
        if "created_since" in query:
            rows = rows.filter(created_at__gte=query["created_since"])
        if "created_until" in query:
            rows = rows.filter(created_at__lt=query["created_until"])
        return page(
            request,
            rows,
            query,
            key="created_at",
            kind="datetime",
            render=lambda shown: [endpoint_json(e) for e in shown],
        )


class CreateEndpointAPI(V1View):
    @extend_schema(
        request=EndpointInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: EndpointWithSecretOutput, **errors(400, 401, 403, 404, 409, 422)},
        operation_id="create_webhook_endpoint",
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request, institution: str) -> Response:
        """Register an endpoint; its signing secret is in this answer only."""
        caller = caller_of(request)
        found = _institution(caller, institution)
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        endpoint = services.create_endpoint(
            actor=caller.user,
            institution=found,
            url=values["url"],
            description=values.get("description", ""),
            event_types=values["events"],
            issuers=_issuers(caller, found, values["issuers"]),
        )
        return Response(endpoint_json(endpoint, secret=True), status=201)


class EndpointsRoute(CreateEndpointAPI, EndpointListAPI):
    """Webhook endpoints: list (GET) or register one (POST)."""


class EndpointAPI(V1View):
    @extend_schema(
        responses={200: EndpointOutput, **errors(401, 403, 404)},
        operation_id="get_webhook_endpoint",
        tags=TAGS,
    )
    def get(self, request: Request, institution: str, endpoint_id: uuid.UUID) -> Response:
        """One endpoint."""
        caller = caller_of(request)
        return Response(
            endpoint_json(_endpoint(caller, _institution(caller, institution), endpoint_id))
        )

    @extend_schema(
        request=EndpointChangeInput,
        responses={200: EndpointOutput, **errors(400, 401, 403, 404)},
        operation_id="update_webhook_endpoint",
        tags=TAGS,
    )
    def patch(self, request: Request, institution: str, endpoint_id: uuid.UUID) -> Response:
        """Change where it is, what it receives, or switch it on or off."""
        caller = caller_of(request)
        found = _institution(caller, institution)
        endpoint = _endpoint(caller, found, endpoint_id)
        data = EndpointChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if {"url", "description", "events", "issuers"} & set(values):
            issuers = (
                _issuers(caller, found, values["issuers"])
                if "issuers" in values
                else list(endpoint.issuers.all())
            )
            endpoint = services.update_endpoint(
                actor=caller.user,
                endpoint=endpoint,
                url=values.get("url", endpoint.url),
                description=values.get("description", endpoint.description),
                event_types=values.get("events", endpoint.event_types),
                issuers=issuers,
            )
        if "enabled" in values and values["enabled"] != endpoint.enabled:
            change = services.enable_endpoint if values["enabled"] else services.disable_endpoint
            endpoint = change(actor=caller.user, endpoint=endpoint)
        return Response(endpoint_json(_endpoint(caller, found, endpoint_id)))

    @extend_schema(
        request=None,
        responses={204: None, **errors(401, 403, 404)},
        operation_id="delete_webhook_endpoint",
        tags=TAGS,
    )
    def delete(self, request: Request, institution: str, endpoint_id: uuid.UUID) -> Response:
        """Delete it: nothing more is sent to it."""
        caller = caller_of(request)
        endpoint = _endpoint(caller, _institution(caller, institution), endpoint_id)
        services.delete_endpoint(actor=caller.user, endpoint=endpoint)
        return Response(status=204)


class RotateSecretAPI(V1View):
    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: EndpointWithSecretOutput, **errors(401, 403, 404, 409, 422)},
        operation_id="rotate_webhook_secret",
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request, institution: str, endpoint_id: uuid.UUID) -> Response:
        """A new signing secret (in this answer only); the previous one keeps signing beside
        it for a grace period, so the receiver can switch without losing a message."""
        caller = caller_of(request)
        endpoint = _endpoint(caller, _institution(caller, institution), endpoint_id)
        endpoint = services.rotate_secret(actor=caller.user, endpoint=endpoint)
        return Response(endpoint_json(endpoint, secret=True))


class TestEventAPI(V1View):
    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: DeliveryOutput, **errors(400, 401, 403, 404, 409, 422)},
        operation_id="send_webhook_test_event",
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request, institution: str, endpoint_id: uuid.UUID) -> Response:
        """Send the endpoint a ``webhook.test`` event."""
        caller = caller_of(request)
        endpoint = _endpoint(caller, _institution(caller, institution), endpoint_id)
        sent = services.send_test_event(actor=caller.user, endpoint=endpoint)
        return Response(
            delivery_json(Delivery.objects.select_related("event").get(pk=sent.pk)), status=201
        )


class DeliveryListAPI(V1View):
    @extend_schema(
        parameters=[CreatedQuery],
        responses={200: paged(DeliveryOutput, "Delivery"), **errors(400, 401, 403, 404)},
        operation_id="list_webhook_deliveries",
        tags=TAGS,
    )
    def get(self, request: Request, institution: str, endpoint_id: uuid.UUID) -> Response:
        """The endpoint's deliveries, oldest first, with what the receiver answered."""
        caller = caller_of(request)
        endpoint = _endpoint(caller, _institution(caller, institution), endpoint_id)
        query = query_of(request, CreatedQuery)
        rows = Delivery.objects.filter(endpoint=endpoint).select_related("event")
        if "created_since" in query:
            rows = rows.filter(created_at__gte=query["created_since"])
        if "created_until" in query:
            rows = rows.filter(created_at__lt=query["created_until"])
        return page(
            request,
            rows,
            query,
            key="created_at",
            kind="datetime",
            render=lambda shown: [delivery_json(d) for d in shown],
        )


class RedeliverAPI(V1View):
    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: DeliveryOutput, **errors(400, 401, 403, 404, 409, 422)},
        operation_id="redeliver_webhook",
        tags=TAGS,
    )
    @idempotent
    def post(
        self, request: Request, institution: str, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> Response:
        """Send a delivery again (same ``webhook-id``), whatever became of it."""
        caller = caller_of(request)
        endpoint = _endpoint(caller, _institution(caller, institution), endpoint_id)
        delivery = Delivery.objects.filter(endpoint=endpoint, pk=delivery_id).first()
        if delivery is None:
            raise ApiError(404, "not_found", "No such delivery.")
        services.redeliver(actor=caller.user, delivery=delivery)
        return Response(delivery_json(Delivery.objects.select_related("event").get(pk=delivery.pk)))
