"""Every write to equivalence statements, as NZQA issued them (research frameworks.md §1.5,
§9.5, §10 "Equivalence statements").

A receiving institution states that an external credential or training (provider, title,
optionally the issuer id and achievement id found in its OB 3.0 / OB 2.0 badges) is equivalent
to a local micro-credential (exemption) and/or to credits at a level of a framework. Drafts
are edited; a published statement is public and backs recognition decisions until it is
withdrawn or its validity ends; it is never rewritten. Each write checks the actor's role
(editors and owners) and leaves an audit row.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges.models import Achievement
from frameworks.catalogue import selectors as catalogue_selectors
from frameworks.models import CreditSystem, EquivalenceStatement, FrameworkLevel
from issuers.models import AuditAction, Institution, Role
from issuers.permissions import require_role
from issuers.services import record_audit

Status = EquivalenceStatement.Status
ID_SCHEMES = ("https://", "http://", "did:", "urn:")


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


def _audit(statement: EquivalenceStatement, actor: User, action: AuditAction) -> None:
    record_audit(
        institution_id=statement.institution_id,
        actor=actor,
        action=action,
        target=str(statement),
        statement=str(statement.pk),
    )


def _credit_errors(institution: Institution, data: StatementData) -> dict[str, str]:
    """What is wrong with the local equivalent and the credits at a level."""
    errors: dict[str, str] = {}
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
    available = catalogue_selectors.levels(institution)
    if data.level is not None and not available.filter(pk=data.level.pk):
        errors["level"] = _("Choose a level of an available framework.")
    return errors


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
    errors.update(_credit_errors(institution, data))
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
    _audit(statement, actor, AuditAction.EQUIVALENCE_CREATED)
    return statement


@transaction.atomic(durable=True)
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
    _audit(statement, actor, AuditAction.EQUIVALENCE_UPDATED)
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
    _audit(statement, actor, AuditAction.EQUIVALENCE_PUBLISHED)
    return statement


@transaction.atomic(durable=True)
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
    _audit(statement, actor, AuditAction.EQUIVALENCE_WITHDRAWN)
    return statement
