"""Reads of equivalence statements: an institution's statements and the public register, the
access function the console uses, and how a verified badge in a recognition case is matched
to a statement (research frameworks.md §1.5, §9.5, §10 "Equivalence statements").

Evidence matches a statement by its achievement id (any version of it), or by its issuer id
and achievement name. A statement backs a new decision only while it is published and valid.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import credentials
from badges import selectors as badge_selectors
from badges.models import Achievement
from frameworks.catalogue.policies import format_decimal
from frameworks.models import (
    CaseEvidence,
    EquivalenceStatement,
    RecognitionCase,
    RecognitionDecision,
)
from issuers.models import Institution, Role
from issuers.permissions import require_role

Status = EquivalenceStatement.Status
_VERSION_SUFFIX = re.compile(r"^(?P<family>.+)/v/\d+$")


def statements_of(institution: Institution) -> QuerySet[EquivalenceStatement]:
    """The institution's statements, drafts and withdrawn ones included."""
    return EquivalenceStatement.objects.filter(institution=institution).select_related(
        "level__framework", "credit_system", "local_achievement"
    )


def statement_for(
    user: User, institution: Institution, statement_id: uuid.UUID, role: Role | None
) -> EquivalenceStatement:
    """The institution's statement; 404 for any other, 403 if ``user`` lacks ``role``
    (``None``: every member may read it)."""
    found = get_object_or_404(statements_of(institution), pk=statement_id)
    if role is not None:
        require_role(user, institution, role)
    return found


def statements_by_id(ids: Sequence[uuid.UUID]) -> QuerySet[EquivalenceStatement]:
    return EquivalenceStatement.objects.filter(pk__in=ids)


def public_statements() -> QuerySet[EquivalenceStatement]:
    """Published statements of every institution (the public register)."""
    return (
        EquivalenceStatement.objects.filter(status=Status.PUBLISHED)
        .select_related("institution", "level__framework", "credit_system", "local_achievement")
        .order_by("provider_name", "title", "pk")
    )


def public_statement(statement_id: uuid.UUID) -> EquivalenceStatement:
    """A published or withdrawn statement (its page says it was withdrawn); 404 for a draft."""
    return get_object_or_404(
        EquivalenceStatement.objects.select_related(
            "institution", "level__framework", "credit_system", "local_achievement"
        ).exclude(status=Status.DRAFT),
        pk=statement_id,
    )


def current(institution: Institution, on: datetime.date | None = None) -> QuerySet[Any]:
    """The institution's statements that can back a decision on ``on`` (today)."""
    day = on or timezone.localdate()
    return statements_of(institution).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day),
        status=Status.PUBLISHED,
        valid_from__lte=day,
    )


def local_name(achievement: Achievement | None) -> str:
    """The name of the latest published version of a local micro-credential."""
    if achievement is None:
        return ""
    version = badge_selectors.latest_published(achievement)
    return version.name if version else achievement.slug


def statement_url(statement: EquivalenceStatement) -> str:
    return credentials.absolute(reverse("equivalence_public", args=[statement.pk]))


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _claims(evidence: CaseEvidence) -> tuple[str, str, str]:
    """(achievement id, issuer id, achievement name) as the verified badge states them."""
    claims: dict[str, Any] = evidence.report.get("claims", {}) or {}
    achievement = claims.get("achievement") or {}
    issuer = claims.get("issuer") or {}
    name = str(achievement.get("name") or claims.get("name") or "")
    return str(achievement.get("id") or ""), str(issuer.get("id") or ""), name


def matches(statement: EquivalenceStatement, evidence: CaseEvidence) -> bool:
    """Whether the badge is the external credential the statement is about: the same
    achievement id (any version of it, for ids ending in ``/v/<n>``), or the same issuer id
    and achievement name (ignoring case and spacing)."""
    achievement_id, issuer_id, name = _claims(evidence)
    wanted = statement.achievement_id
    if wanted and achievement_id:
        family = _VERSION_SUFFIX.match(achievement_id)
        if achievement_id == wanted or (family and family.group("family") == wanted.rstrip("/")):
            return True
    return bool(
        statement.issuer_id
        and issuer_id == statement.issuer_id
        and name
        and _norm(name) == _norm(statement.title)
    )


@dataclass(frozen=True)
class Suggestion:
    """A current statement that one of the case's badges matches, and the decision it
    suggests (``outcome`` is empty when it recognises neither this module nor credits)."""

    statement: EquivalenceStatement
    evidence: CaseEvidence
    usable: bool
    outcome: str
    local_name: str = ""

    def initial(self) -> dict[str, Any]:
        """The decision form pre-filled from the statement; the assessor still decides."""
        if not self.usable or not self.outcome:
            return {}
        statement = self.statement
        rationale = _("Equivalence statement “%(title)s” (%(provider)s): %(rationale)s") % {
            "title": statement.title,
            "provider": statement.provider_name,
            "rationale": statement.rationale,
        }
        initial: dict[str, Any] = {
            "outcome": self.outcome,
            "rationale": rationale,
            "equivalence": statement.pk,
        }
        if self.outcome == RecognitionDecision.Outcome.CREDIT:
            initial["credits"] = (
                Decimal(format_decimal(statement.credits)) if statement.credits else None
            )
            initial["credit_system"] = statement.credit_system_id
        return initial


def _ids_of(evidence: list[CaseEvidence]) -> tuple[set[str], set[str]]:
    """The achievement ids (and their version families) and issuer ids the badges state."""
    ids: set[str] = set()
    issuers: set[str] = set()
    for item in evidence:
        achievement_id, issuer_id, _name = _claims(item)
        if achievement_id:
            ids.add(achievement_id)
            family = _VERSION_SUFFIX.match(achievement_id)
            if family:
                ids.update({family.group("family"), family.group("family") + "/"})
        if issuer_id:
            issuers.add(issuer_id)
    return ids, issuers


def suggestions(case: RecognitionCase) -> list[Suggestion]:
    """Current statements of the case's institution that its badges match, best first:
    usable evidence, then an exemption for this very module."""
    evidence = list(case.evidence.all())
    if not evidence:
        return []
    ids, issuers = _ids_of(evidence)
    if not ids and not issuers:
        return []
    candidates = current(case.institution).filter(
        Q(achievement_id__in=ids) | Q(issuer_id__in=issuers)
    )
    found: list[Suggestion] = []
    for statement in candidates:
        for item in evidence:
            if not matches(statement, item):
                continue
            outcome: str
            if statement.local_achievement_id == case.module_id:
                outcome = RecognitionDecision.Outcome.EXEMPTION
            elif statement.credits is not None:
                outcome = RecognitionDecision.Outcome.CREDIT
            else:
                outcome = ""
            usable = item.verdict == "valid" and item.flagged_at is None
            local = local_name(statement.local_achievement)
            found.append(Suggestion(statement, item, usable, outcome, local))
            break
    found.sort(key=lambda s: (not s.usable, s.outcome != RecognitionDecision.Outcome.EXEMPTION))
    return found


def check_applicable(case: RecognitionCase, statement: EquivalenceStatement) -> None:
    """Refuse a statement a new decision cannot apply (withdrawn, out of date, another
    institution's, or about none of the learner's badges). Read afresh: it may have been
    withdrawn since the page was shown."""
    statement = EquivalenceStatement.objects.get(pk=statement.pk)
    if statement.institution_id != case.institution_id or not statement.is_current():
        raise ValidationError(
            {
                "equivalence": _(
                    "This equivalence statement is withdrawn or not valid today; "
                    "it cannot back a new decision."
                )
            }
        )
    if not any(matches(statement, e) for e in case.evidence.all()):
        raise ValidationError(
            {"equivalence": _("This equivalence statement is about none of the learner's badges.")}
        )
