"""Reads of badge imports: a learner's imports, one of them, those due a re-check, and the
imports equal to a given credential (OB 3.0 "credential equality")."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import unquote

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from earners.models import ImportedBadge

RECHECK_AFTER = dt.timedelta(days=1)


def imports_of(user: User) -> QuerySet[ImportedBadge]:
    return ImportedBadge.objects.filter(user=user)


def import_for(user: User, import_id: str) -> ImportedBadge:
    """The learner's own import ``import_id``; 404 for anyone else's or a malformed id."""
    try:
        found = imports_of(user).filter(pk=uuid.UUID(import_id)).first()
    except ValueError:
        found = None
    if found is None:
        raise Http404
    return found


def due_for_recheck(now: dt.datetime | None = None, limit: int = 100) -> list[ImportedBadge]:
    cutoff = (now or timezone.now()) - RECHECK_AFTER
    return list(ImportedBadge.objects.filter(checked_at__lte=cutoff).order_by("checked_at")[:limit])


def credential_key(issuer_id: Any, credential_id: Any) -> tuple[str, str] | None:
    """What makes two credentials the same (OB 3.0 §"Credential equality and comparison"):
    the issuer id and the credential id, each percent-decoded and then trimmed."""
    if not isinstance(issuer_id, str) or not isinstance(credential_id, str):
        return None
    issuer, credential = unquote(issuer_id).strip(), unquote(credential_id).strip()
    return (issuer, credential) if issuer and credential else None


def equal_imports(user: User, key: tuple[str, str]) -> list[tuple[uuid.UUID, str]]:
    """The learner's imports equal to the credential ``key`` names, each with its
    ``validFrom`` as the badge says it ("" if none)."""
    rows = ImportedBadge.objects.filter(user=user).values_list(
        "pk", "report__credential_id", "report__claims__issuer__id", "report__claims__valid_from"
    )
    return [
        (pk, valid_from if isinstance(valid_from, str) else "")
        for pk, credential_id, issuer_id, valid_from in rows
        if credential_key(issuer_id, credential_id) == key
    ]
