"""Reads of identity changes: the requests an institution has to decide."""

from __future__ import annotations

from django.db.models import QuerySet

from earners.models import IdentityChange
from issuers.models import Institution


def pending_for(institution: Institution) -> QuerySet[IdentityChange]:
    return IdentityChange.objects.filter(award__issuer__institution=institution).select_related(
        "award__achievement_version__achievement", "award__issuer", "new_award"
    )
