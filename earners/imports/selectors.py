"""Reads of badge imports: a learner's imports, one of them, and those due a re-check."""

from __future__ import annotations

import datetime as dt
import uuid

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
