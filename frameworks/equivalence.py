"""Equivalence statements for external training, as NZQA issued them (research frameworks.md
§1.5, §9.5, §10 "Equivalence statements").

A receiving institution states that an external credential or training (provider, title,
optionally the issuer id and achievement id found in its OB 3.0 / OB 2.0 badges) is equivalent
to a local micro-credential (exemption) and/or to credits at a level of a framework. Drafts
are edited; a published statement is public and backs recognition decisions until it is
withdrawn or its validity ends. Evidence in a recognition case matches a statement by its
achievement id, or by its issuer id and achievement name.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import credentials
from badges.models import Achievement, VersionStatus
from frameworks import selectors
from frameworks.models import (
    CaseEvidence,
    CreditSystem,
    EquivalenceStatement,
    FrameworkLevel,
    RecognitionCase,
    RecognitionDecision,
)
from frameworks.policies import number
from issuers.models import AuditEvent, Institution, Role
from issuers.permissions import require_role

Status = EquivalenceStatement.Status
ID_SCHEMES = ("https://", "http://", "did:", "urn:")
_VERSION_SUFFIX = re.compile(r"^(?P<family>.+)/v/\d+$")


@dataclass(frozen=True)
class StatementData:
    """What staff write in a statement (the form's cleaned data)."""

    provider_name: str
    title: str
    rationale: str
    valid_from: datetime.date
    valid_until: datetime.date | None = None
    issuer_id: str = ""
    achievement_id: str = ""
    link: str = ""
    authority: str = ""
    local_achievement: Achievement | None = None
    level: FrameworkLevel | None = None
    credit_system: CreditSystem | None = None
    credits: Decimal | None = None


def _audit(statement: EquivalenceStatement, actor: User, action: str) -> None:
    AuditEvent.objects.create(
        institution=statement.institution,
        actor=actor,
        action=f"equivalence.{action}",
        target=str(statement)[:200],
        data={"statement": str(statement.pk)},
    )


def _check(institution: Institution, data: StatementData) -> dict[str, Any]:
    """The statement's fields, cleaned; raises ``ValidationError`` by field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "provider_name": " ".join(data.provider_name.split()),
        "title": " ".join(data.title.split()),
        "rationale": data.rationale.strip(),
        "issuer_id": data.issuer_id.strip(),
        "achievement_id": data.achievement_id.strip(),
        "link": data.link.strip(),
        "authority": " ".join(data.authority.split()),
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
        "local_achievement": data.local_achievement,
        "level": data.level,
        "credit_system": data.credit_system,
        "credits": data.credits,
    }
    if not values["provider_name"]:
        errors["provider_name"] = _("Name the provider or organisation.")
    if not values["title"]:
        errors["title"] = _("Give the title of the external credential or training.")
    if not values["rationale"]:
        errors["rationale"] = _("Give the rationale for the equivalence.")
    if values["link"] and not values["link"].lower().startswith(("https://", "http://")):
        errors["link"] = _("The link must start with https:// or http://.")
    for name in ("issuer_id", "achievement_id"):
        if values[name] and not values[name].lower().startswith(ID_SCHEMES):
            errors[name] = _("An id is a URL (https://…) or starts with did: or urn:.")
    if data.valid_until is not None and data.valid_until < data.valid_from:
        errors["valid_until"] = _("The statement cannot end before it starts.")
    local = data.local_achievement
    if local is not None and local.issuer.institution_id != institution.pk:
        errors["local_achievement"] = _("Choose a micro-credential of your institution.")
    credit_given = data.credits is not None or data.credit_system is not None
    if local is None and not credit_given:
        errors["local_achievement"] = _("State a local equivalent, credits at a level, or both.")
    if credit_given:
        if data.credits is None or data.credits <= 0:
            errors["credits"] = _("Credits must be more than zero.")
        elif data.credit_system is None:
            errors["credit_system"] = _("Choose the credit system of these credits.")
        else:
            places = -int(data.credits.normalize().as_tuple().exponent)
            if places > data.credit_system.decimal_places:
                errors["credits"] = _("%(unit)s allow %(places)s decimal places.") % {
                    "unit": data.credit_system.unit,
                    "places": data.credit_system.decimal_places,
                }
        if data.level is None:
            errors["level"] = _("Choose the level at which the credits are recognised.")
    if data.level is not None and not selectors.levels(institution).filter(pk=data.level.pk):
        errors["level"] = _("Choose a level of an available framework.")
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def create_statement(
    *, actor: User, institution: Institution, data: StatementData
) -> EquivalenceStatement:
    """Write a draft statement. Editors and owners of the institution."""
    require_role(actor, institution, Role.EDITOR)
    statement = EquivalenceStatement.objects.create(
        institution=institution, created_by=actor, **_check(institution, data)
    )
    _audit(statement, actor, "created")
    return statement


@transaction.atomic
def update_statement(
    *, actor: User, statement: EquivalenceStatement, data: StatementData
) -> EquivalenceStatement:
    """Change a draft. A published statement is withdrawn and replaced, never rewritten."""
    require_role(actor, statement.institution, Role.EDITOR)
    statement = EquivalenceStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status != Status.DRAFT:
        raise ValidationError(_("Only a draft can be changed; withdraw it and write a new one."))
    for name, value in _check(statement.institution, data).items():
        setattr(statement, name, value)
    statement.save()
    _audit(statement, actor, "updated")
    return statement


@transaction.atomic
def publish_statement(*, actor: User, statement: EquivalenceStatement) -> EquivalenceStatement:
    """Make a draft public; from then on it can back recognition decisions."""
    require_role(actor, statement.institution, Role.EDITOR)
    statement = EquivalenceStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status != Status.DRAFT:
        raise ValidationError(_("Only a draft can be published."))
    if statement.valid_until is not None and statement.valid_until < timezone.localdate():
        raise ValidationError(_("This statement's validity has already ended."))
    statement.status = Status.PUBLISHED
    statement.published_at = timezone.now()
    statement.published_by = actor
    statement.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    _audit(statement, actor, "published")
    return statement


@transaction.atomic
def withdraw_statement(
    *, actor: User, statement: EquivalenceStatement, reason: str = ""
) -> EquivalenceStatement:
    """Withdraw a published statement: no new decision may apply it; earlier decisions keep
    their reference and its public page says it was withdrawn."""
    require_role(actor, statement.institution, Role.EDITOR)
    statement = EquivalenceStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status != Status.PUBLISHED:
        raise ValidationError(_("Only a published statement can be withdrawn."))
    statement.status = Status.WITHDRAWN
    statement.withdrawn_at = timezone.now()
    statement.withdrawn_reason = " ".join(reason.split())[:1000]
    statement.save(update_fields=["status", "withdrawn_at", "withdrawn_reason", "updated_at"])
    _audit(statement, actor, "withdrawn")
    return statement


# Reads ------------------------------------------------------------------------------------


def statements_of(institution: Institution) -> QuerySet[EquivalenceStatement]:
    return EquivalenceStatement.objects.filter(institution=institution).select_related(
        "level__framework", "credit_system", "local_achievement"
    )


def public_statements() -> QuerySet[EquivalenceStatement]:
    """Published statements of every institution (the public register)."""
    return (
        EquivalenceStatement.objects.filter(status=Status.PUBLISHED)
        .select_related("institution", "level__framework", "credit_system", "local_achievement")
        .order_by("provider_name", "title", "pk")
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
    version = (
        achievement.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
    )
    return version.name if version else achievement.slug


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
            initial["credits"] = Decimal(number(statement.credits)) if statement.credits else None
            initial["credit_system"] = statement.credit_system_id
        return initial


def suggestions(case: RecognitionCase) -> list[Suggestion]:
    """Current statements of the case's institution that its badges match, best first:
    usable evidence, then an exemption for this very module."""
    evidence = list(case.evidence.all())
    if not evidence:
        return []
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


def statement_url(statement: EquivalenceStatement) -> str:
    return credentials.absolute(reverse("equivalence_public", args=[statement.pk]))


def statement_json(statement: EquivalenceStatement) -> dict[str, Any]:
    """The public form of a statement (API): the NZQA register's columns and the local
    equivalents."""
    level = statement.level
    local = statement.local_achievement
    return {
        "id": str(statement.pk),
        "url": statement_url(statement),
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
            "amount": number(statement.credits),
            "system": statement.credit_system.code,
            "unit": statement.credit_system.unit_en,
        }
        if statement.credits is not None and statement.credit_system is not None
        else None,
        "local_equivalent": {
            "id": str(local.pk),
            "name": local_name(local),
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
