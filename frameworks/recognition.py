"""Recognition of prior learning and credit transfer (research frameworks.md §7, §10
"Recognition").

Staff open a case for a learner and a local micro-credential (the module); each badge the
learner offers, from any issuer, by URL or file, is checked by the verify pipeline
(``verification.pipeline``) and kept with its report: level, credits, skills and outcomes
in words beside the module. Decisions are append-only. Checking a case again flags evidence
that no longer verifies (for example, revoked since), and with it the decisions it backed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User, normalize_email
from badges.models import Achievement
from frameworks.models import (
    CaseEvidence,
    CreditSystem,
    RecognitionCase,
    RecognitionDecision,
)
from issuers.models import AuditEvent, Institution, Role
from issuers.permissions import require_role
from verification import pipeline

VALID = "valid"


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


def _audit(case: RecognitionCase, actor: User, action: str) -> None:
    AuditEvent.objects.create(
        institution=case.institution, actor=actor, action=action, target=str(case.pk), data={}
    )


@transaction.atomic
def open_case(
    *,
    actor: User,
    institution: Institution,
    learner_email: str,
    module: Achievement,
    learner_name: str = "",
) -> RecognitionCase:
    """Open a recognition case for a learner and a local module. Editors and owners."""
    require_role(actor, institution, Role.EDITOR)
    if module.issuer.institution_id != institution.pk:
        raise ValidationError({"module": _("Choose a micro-credential of your institution.")})
    email = normalize_email(learner_email)
    if not email:
        raise ValidationError({"learner_email": _("Enter the learner's e-mail address.")})
    case = RecognitionCase.objects.create(
        institution=institution,
        learner_email=email,
        learner_name=learner_name.strip(),
        module=module,
        opened_by=actor,
    )
    _audit(case, actor, "recognition.opened")
    return case


def _verify(url: str, text: str, upload: bytes | None, filename: str, email: str) -> Any:
    return pipeline.verify(
        pipeline.VerifyRequest(url=url, text=text, upload=upload, filename=filename, email=email)
    )


@transaction.atomic
def add_evidence(
    *,
    actor: User,
    case: RecognitionCase,
    url: str = "",
    text: str = "",
    upload: bytes | None = None,
    filename: str = "",
) -> CaseEvidence:
    """Verify a badge the learner offers (URL, JSON or baked image) against the learner's
    e-mail, and keep it with its report. Editors and owners."""
    require_role(actor, case.institution, Role.EDITOR)
    if not (url.strip() or text.strip() or upload):
        raise ValidationError(_("Give the badge's link, its JSON or its image."))
    report = _verify(url.strip(), text, upload, filename, case.learner_email)
    if report.format in ("", "unknown") and not report.credential:
        raise ValidationError(_("No badge was found in what was given."))
    credential = report.credential
    evidence = CaseEvidence.objects.create(
        case=case,
        source_url=url.strip() if url.strip().startswith(("http://", "https://")) else "",
        credential_text=json.dumps(credential, ensure_ascii=False) if credential else text,
        verdict=str(report.verdict),
        report=report.as_json(),
        checked_at=report.checked_at,
    )
    _audit(case, actor, "recognition.evidence_added")
    return evidence


@transaction.atomic
def decide(
    *,
    actor: User,
    case: RecognitionCase,
    outcome: str,
    rationale: str,
    credits: Decimal | None = None,
    credit_system: CreditSystem | None = None,
) -> RecognitionDecision:
    """Record the assessor's decision (append-only). Credit or exemption needs evidence,
    all of which verified as valid, and a rationale. Editors and owners."""
    require_role(actor, case.institution, Role.EDITOR)
    RecognitionCase.objects.select_for_update().filter(pk=case.pk).first()
    if not rationale.strip():
        raise ValidationError({"rationale": _("Give the rationale for the decision.")})
    evidence = list(case.evidence.all())
    granting = outcome in (
        RecognitionDecision.Outcome.CREDIT,
        RecognitionDecision.Outcome.EXEMPTION,
    )
    if granting and not evidence:
        raise ValidationError(_("Add the learner's badges before granting anything."))
    if granting and any(e.verdict != VALID or e.flagged_at for e in evidence):
        raise ValidationError(_("Credit or exemption needs evidence that verified as valid."))
    if outcome == RecognitionDecision.Outcome.CREDIT and (
        credits is None or credits <= 0 or credit_system is None
    ):
        raise ValidationError({"credits": _("State the credits granted and their system.")})
    decision = RecognitionDecision(
        case=case,
        outcome=outcome,
        credits=credits if outcome == RecognitionDecision.Outcome.CREDIT else None,
        credit_system=credit_system if outcome == RecognitionDecision.Outcome.CREDIT else None,
        rationale=rationale.strip(),
        evidence_verdicts={str(e.pk): e.verdict for e in evidence},
        decided_by=actor,
        decided_at=timezone.now(),
    )
    decision.full_clean()
    decision.save()
    _audit(case, actor, f"recognition.{outcome}")
    return decision


@transaction.atomic
def recheck_case(*, actor: User, case: RecognitionCase) -> list[CaseEvidence]:
    """Verify every piece of evidence again; flag what no longer verifies as valid."""
    require_role(actor, case.institution, Role.EDITOR)
    flagged = []
    for evidence in case.evidence.select_for_update():
        report = _verify(
            evidence.source_url,
            "" if evidence.source_url else evidence.credential_text,
            None,
            "",
            case.learner_email,
        )
        verdict = str(report.verdict)
        if evidence.verdict == VALID and verdict != VALID and evidence.flagged_at is None:
            evidence.flagged_at = timezone.now()
            evidence.later_verdict = verdict
            evidence.save(update_fields=["flagged_at", "later_verdict"])
            flagged.append(evidence)
    return flagged


def needs_review(case: RecognitionCase) -> bool:
    """A decision granted on evidence that has since stopped verifying."""
    return (
        case.evidence.filter(flagged_at__isnull=False).exists()
        and case.decisions.exclude(outcome=RecognitionDecision.Outcome.DECLINED).exists()
    )
