"""Reads of recognition cases: the institution's cases, one case for the console (the access
function), what a badge offered as evidence says about itself, the verify page's words for a
verdict, and the evidence due for its periodic re-check (research frameworks.md §7, §10
"Recognition").
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from frameworks.models import CaseEvidence, RecognitionCase, RecognitionDecision
from issuers.models import Institution, Role
from issuers.permissions import may_read, require_role, visible_issuers
from verification.report import COULD_NOT_CHECK as VERDICTS_COULD_NOT_CHECK
from verification.report import HEADLINES, Verdict

VALID = "valid"
#: A re-check that says this could not check; it flags nothing (DESIGN §6: a failure to
#: check is never "valid", and neither is it "revoked").
COULD_NOT_CHECK = frozenset(str(verdict) for verdict in VERDICTS_COULD_NOT_CHECK)
GRANTING = (RecognitionDecision.Outcome.CREDIT, RecognitionDecision.Outcome.EXEMPTION)


def cases_of(institution: Institution, user: User) -> QuerySet[RecognitionCase]:
    """The institution's cases ``user`` may read, those needing review first. A case is for
    its module's issuer: staff of some issuers read the cases for those issuers' modules
    only (``issuers.permissions.visible_issuers``)."""
    found = RecognitionCase.objects.filter(institution=institution)
    visible = visible_issuers(user, institution)
    if visible is not None:
        found = found.filter(module__issuer_id__in=visible)
    return (
        found.select_related("module")
        .prefetch_related("module__versions")
        .order_by("-needs_review", "-opened_at")
    )


def case_for(
    user: User, institution: Institution, case_id: uuid.UUID, role: Role | None
) -> RecognitionCase:
    """The institution's case; 404 for any other and for a case on a sibling issuer's module
    when ``user``'s roles are for other issuers only, 403 if ``user`` lacks ``role``
    (``None``: every member who may read it)."""
    found = get_object_or_404(
        RecognitionCase.objects.select_related("module"), pk=case_id, institution=institution
    )
    if not may_read(user, institution, found.module.issuer_id):
        raise Http404
    if role is not None:
        require_role(user, institution, role)
    return found


@dataclass(frozen=True)
class EvidenceSummary:
    """What a badge offered as evidence says about itself, for the assessor."""

    name: str
    issuer: str
    level: list[str]
    credits: str
    skills: list[str]
    description: str


def summary(evidence: CaseEvidence) -> EvidenceSummary:
    """The claims of the evidence's verify report: name, issuer, level, credits, skills."""
    claims: dict[str, Any] = evidence.report.get("claims", {}) or {}
    achievement = claims.get("achievement", {}) or {}
    skills = [s.get("name", "") for s in claims.get("skills", []) if isinstance(s, dict)]
    levels = [s for s in skills if " Level " in s]
    credits = achievement.get("credits")
    return EvidenceSummary(
        name=str(claims.get("name", "")),
        issuer=str((claims.get("issuer") or {}).get("name", "")),
        level=levels,
        credits="" if credits is None else str(credits),
        skills=[s for s in skills if s not in levels],
        description=str(achievement.get("description", "")),
    )


def verdict_line(verdict: str) -> str:
    """The verify page's sentence for a verdict ("Revoked: the issuer has withdrawn …")."""
    try:
        return str(HEADLINES[Verdict(verdict)])
    except (KeyError, ValueError):
        return verdict


def needs_review(case: RecognitionCase) -> bool:
    """A granted decision whose evidence stopped verifying at a later check (the stored
    flag, read afresh: ``case`` may be an older copy)."""
    return RecognitionCase.objects.filter(pk=case.pk, needs_review=True).exists()


def has_grant(case: RecognitionCase) -> bool:
    """Whether a decision on the case granted credit or an exemption."""
    return case.decisions.filter(outcome__in=GRANTING).exists()


def recheck_after() -> dt.timedelta:
    """How long a check of granted evidence stays current."""
    return dt.timedelta(hours=settings.RECOGNITION_RECHECK_HOURS)


def due_for_recheck(now: dt.datetime | None = None, limit: int = 100) -> list[int]:
    """Evidence of cases with a granting decision, not checked for :func:`recheck_after`,
    oldest check first."""
    cutoff = (now or timezone.now()) - recheck_after()
    granted = RecognitionDecision.objects.filter(outcome__in=GRANTING).values("case_id")
    rows = (
        CaseEvidence.objects.filter(case_id__in=granted)
        .annotate(last=Coalesce("last_checked_at", "checked_at"))
        .filter(last__lte=cutoff)
        .order_by("last", "pk")
        .values_list("pk", flat=True)
    )
    return list(rows[:limit])
