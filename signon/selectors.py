"""Reads for sign-on pages."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet
from django.http import Http404

from issuers.models import Institution
from signon.models import IdentityProvider, KeyState, Protocol, ServiceProviderKey


def providers_of(institution: Institution) -> dict[str, IdentityProvider]:
    """The institution's identity providers by protocol."""
    return {p.protocol: p for p in IdentityProvider.objects.filter(institution=institution)}


def provider_for(institution: Institution, provider_id: uuid.UUID) -> IdentityProvider:
    """``institution``'s identity provider, or 404 (also for another institution's)."""
    found = IdentityProvider.objects.filter(institution=institution, pk=provider_id).first()
    if found is None:
        raise Http404
    return found


def enabled_providers(institution: Institution) -> list[IdentityProvider]:
    """What a person can sign in with at ``institution``, SAML first."""
    found = IdentityProvider.objects.filter(institution=institution, enabled=True)
    return sorted(found, key=lambda p: p.protocol != Protocol.SAML)


def institutions_with_signon(query: str = "") -> QuerySet[Institution]:
    """Institutions someone can sign in through, matching ``query`` by name or short name."""
    found = Institution.objects.filter(identity_providers__enabled=True).distinct()
    query = query.strip()
    if query:
        found = found.filter(
            Q(name_en__icontains=query) | Q(name_zh__icontains=query) | Q(slug__icontains=query)
        )
    return found.order_by("name_en")


def published_keys(institution: Institution) -> list[ServiceProviderKey]:
    return list(
        ServiceProviderKey.objects.filter(
            institution=institution, state__in=[KeyState.ACTIVE, KeyState.NEXT]
        ).order_by("not_before")
    )
