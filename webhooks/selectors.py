"""Reads of webhook endpoints and deliveries: an institution's endpoints, the access
functions for one endpoint and one delivery, an endpoint's recent deliveries."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from issuers.models import Institution, Membership, Role
from issuers.permissions import require_role
from webhooks.models import Attempt, Delivery, Endpoint

#: How many deliveries an endpoint's page lists.
RECENT_DELIVERIES = 50


def endpoints_of(institution: Institution) -> QuerySet[Endpoint]:
    """The institution's endpoints, oldest first, with their issuer filters."""
    return (
        Endpoint.objects.filter(institution=institution)
        .select_related("created_by")
        .prefetch_related("issuers")
        .order_by("created_at", "pk")
    )


def endpoint_for(user: User, institution: Institution, endpoint_id: uuid.UUID) -> Endpoint:
    """The institution's endpoint ``endpoint_id``, for an owner: 403 for anyone but an owner
    of the institution, 404 for another institution's endpoint (or none)."""
    require_role(user, institution, Role.OWNER)
    found = endpoints_of(institution).filter(pk=endpoint_id).first()
    if found is None:
        raise Http404
    return found


def deliveries_of(endpoint: Endpoint, limit: int = RECENT_DELIVERIES) -> list[Delivery]:
    """The endpoint's latest deliveries, newest first, with their events."""
    return list(
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .order_by("-created_at", "-pk")[:limit]
    )


def delivery_for(
    user: User, institution: Institution, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> Delivery:
    """A delivery of the institution's endpoint, for an owner (403 / 404 as
    :func:`endpoint_for`)."""
    endpoint = endpoint_for(user, institution, endpoint_id)
    found = (
        Delivery.objects.filter(endpoint=endpoint, pk=delivery_id)
        .select_related("event", "endpoint__institution")
        .first()
    )
    if found is None:
        raise Http404
    return found


def attempts_of(delivery: Delivery) -> list[Attempt]:
    """Every try of a delivery, oldest first."""
    return list(Attempt.objects.filter(delivery=delivery).order_by("at", "pk"))


def owner_emails(institution_id: int) -> list[str]:
    """The addresses of the institution's active owners (told when an endpoint is disabled)."""
    return sorted(
        set(
            Membership.objects.filter(
                institution_id=institution_id, role=Role.OWNER, user__is_active=True
            ).values_list("user__email", flat=True)
        )
    )
