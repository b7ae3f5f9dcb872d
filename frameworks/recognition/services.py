"""Every write to recognition cases: recognition of prior learning and credit transfer
(research frameworks.md §7, §10 "Recognition").

Staff open a case for a learner and a local micro-credential (the module); each badge the
learner offers, from any issuer, by URL or file, is checked by the verify pipeline
(``verification.pipeline``) and kept with its report: level, credits, skills and outcomes
in words beside the module. Decisions are append-only. Checking a case again (staff, or the
periodic task ``frameworks.recognition.tasks.recheck_recognition_evidence``) flags evidence
that no longer verifies (revoked, suspended, expired or invalid since), and stores a review
flag on the case whose granted decision it backed. A check that could not be made (network)
flags nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges.models import Achievement
from frameworks.equivalence.selectors import check_applicable
from frameworks.models import (
    CaseEvidence,
    CreditSystem,
    EquivalenceStatement,
    RecognitionCase,
    RecognitionDecision,
)
from frameworks.recognition.selectors import (
    COULD_NOT_CHECK,
    GRANTING,
    VALID,
    due_for_recheck,
    has_grant,
    recheck_after,
)
from issuers.models import AuditAction, Institution, Role
from issuers.permissions import require_role
from issuers.services import record_audit
from openbadges.ob3 import normalize_email
from verification import pipeline, ratelimit
from verification.report import Report

log = logging.getLogger(__name__)


def _audit(case: RecognitionCase, actor: User | None, action: AuditAction) -> None:
    record_audit(
        institution_id=case.institution_id, actor=actor, action=action, target=str(case.pk)
    )


@transaction.atomic(durable=True)
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
    _audit(case, actor, AuditAction.RECOGNITION_OPENED)
    return case


def _verify(
    url: str,
    text: str,
    upload: bytes | None,
    filename: str,
    email: str,
    actor: User | None = None,
) -> Report:
    """The pipeline on one piece of evidence; a person's request counts against their
    verification limit (``verification.ratelimit``: raises ``Limited``), the periodic
    re-check against none."""
    asked = pipeline.VerifyRequest(
        url=url, text=text, upload=upload, filename=filename, email=email
    )
    if actor is None:
        return pipeline.verify(asked)
    return ratelimit.verify_as(ratelimit.user_key(actor.pk), asked)


@transaction.atomic(durable=True)
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
    report = _verify(url.strip(), text, upload, filename, case.learner_email, actor)
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
    _audit(case, actor, AuditAction.RECOGNITION_EVIDENCE_ADDED)
    return evidence


@transaction.atomic(durable=True)
def decide(
    *,
    actor: User,
    case: RecognitionCase,
    outcome: str,
    rationale: str,
    credits: Decimal | None = None,
    credit_system: CreditSystem | None = None,
    equivalence: EquivalenceStatement | None = None,
) -> RecognitionDecision:
    """Record the assessor's decision (append-only). Credit or exemption needs evidence,
    all of which verified as valid, and a rationale; an equivalence statement it applies
    must be current and about one of the learner's badges. A new decision answers a review
    flag. Editors and owners."""
    require_role(actor, case.institution, Role.EDITOR)
    case = RecognitionCase.objects.select_for_update().get(pk=case.pk)
    if not rationale.strip():
        raise ValidationError({"rationale": _("Give the rationale for the decision.")})
    evidence = list(case.evidence.all())
    granting = outcome in GRANTING
    if granting and not evidence:
        raise ValidationError(_("Add the learner's badges before granting anything."))
    if granting and any(e.verdict != VALID or e.flagged_at for e in evidence):
        raise ValidationError(_("Credit or exemption needs evidence that verified as valid."))
    is_credit = outcome == RecognitionDecision.Outcome.CREDIT
    if is_credit and (credits is None or credits <= 0 or credit_system is None):
        raise ValidationError({"credits": _("State the credits granted and their system.")})
    if not granting:
        equivalence = None
    if equivalence is not None:
        check_applicable(case, equivalence)
    decision = RecognitionDecision(
        case=case,
        outcome=outcome,
        credits=credits if is_credit else None,
        credit_system=credit_system if is_credit else None,
        rationale=rationale.strip(),
        evidence_verdicts={str(e.pk): e.verdict for e in evidence},
        equivalence=equivalence,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    decision.full_clean()
    decision.save()
    if case.needs_review:
        _clear_flag(case, actor, note="")
    _audit(case, actor, AuditAction(f"recognition.{outcome}"))
    return decision


def _clear_flag(case: RecognitionCase, actor: User, note: str) -> None:
    case.needs_review = False
    case.reviewed_at = timezone.now()
    case.reviewed_by = actor
    case.review_note = note
    case.save(update_fields=["needs_review", "reviewed_at", "reviewed_by", "review_note"])


@transaction.atomic(durable=True)
def mark_reviewed(*, actor: User, case: RecognitionCase, note: str) -> RecognitionCase:
    """The assessor looked at a flagged case and keeps its decision (for example, a badge
    that expired after it was recognised); the note says why. Editors and owners."""
    require_role(actor, case.institution, Role.EDITOR)
    case = RecognitionCase.objects.select_for_update().get(pk=case.pk)
    if not case.needs_review:
        raise ValidationError(_("This case does not need review."))
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say why the decision stands.")})
    _clear_flag(case, actor, note[:2000])
    _audit(case, actor, AuditAction.RECOGNITION_REVIEWED)
    return case


def _apply_check(evidence: CaseEvidence, verdict: str, at: dt.datetime) -> bool:
    """Store a re-check's result on locked ``evidence``; flag it (and its case, if a decision
    granted something on it) when it stopped verifying. True if newly flagged."""
    evidence.last_checked_at = at
    evidence.last_verdict = verdict
    fields = ["last_checked_at", "last_verdict"]
    newly = False
    if verdict == VALID and evidence.flagged_at is not None:
        # Valid again (a suspension was lifted): new grants may rely on it; a review flag
        # already on the case stays for the assessor.
        evidence.flagged_at = None
        fields.append("flagged_at")
    elif (
        verdict != VALID
        and verdict not in COULD_NOT_CHECK
        and evidence.verdict == VALID
        and evidence.flagged_at is None
    ):
        evidence.flagged_at = at
        evidence.later_verdict = verdict
        fields += ["flagged_at", "later_verdict"]
        newly = True
    evidence.save(update_fields=fields)
    if newly:
        case = RecognitionCase.objects.select_for_update().get(pk=evidence.case_id)
        if not case.needs_review and has_grant(case):
            case.needs_review = True
            case.review_flagged_at = at
            case.review_verdict = verdict
            case.save(update_fields=["needs_review", "review_flagged_at", "review_verdict"])
            _audit(case, None, AuditAction.RECOGNITION_FLAGGED)
    return newly


def _verify_again(evidence: CaseEvidence, email: str, actor: User | None = None) -> str:
    """URL evidence is fetched again; a stored credential has its proof, expiry and status
    (the issuer's status list, fetched now) checked again."""
    report = _verify(
        evidence.source_url,
        "" if evidence.source_url else evidence.credential_text,
        None,
        "",
        email,
        actor,
    )
    return str(report.verdict)


@transaction.atomic(durable=True)
def recheck_case(*, actor: User, case: RecognitionCase) -> list[CaseEvidence]:
    """Verify every piece of evidence again now; flag what no longer verifies as valid.
    Editors and owners."""
    require_role(actor, case.institution, Role.EDITOR)
    flagged = []
    for evidence in case.evidence.select_for_update():
        verdict = _verify_again(evidence, case.learner_email, actor)
        if _apply_check(evidence, verdict, timezone.now()):
            flagged.append(evidence)
    return flagged


def recheck_evidence(*, evidence_id: int, now: dt.datetime | None = None) -> bool | None:
    """Re-verify one piece of evidence (the periodic task; no actor). Idempotent: a row
    checked meanwhile by someone else is left alone. True if it was newly flagged, None if
    it was skipped."""
    evidence = CaseEvidence.objects.select_related("case").filter(pk=evidence_id).first()
    if evidence is None:
        return None
    # The fetch happens outside any transaction (durable below): no row stays locked for up
    # to 10 s while the issuer's server answers.
    verdict = _verify_again(evidence, evidence.case.learner_email)
    at = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = (
            CaseEvidence.objects.select_for_update(skip_locked=True).filter(pk=evidence_id).first()
        )
        if locked is None or (
            locked.last_checked_at is not None and locked.last_checked_at > at - recheck_after()
        ):
            return None
        return _apply_check(locked, verdict, at)


def recheck_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Re-check every piece of evidence that is due, each in its own transaction; one failure
    does not stop the rest."""
    checked = flagged = 0
    for evidence_id in due_for_recheck(now):
        try:
            result = recheck_evidence(evidence_id=evidence_id, now=now)
        except Exception:  # one bad row must not stop the others
            log.warning("re-checking recognition evidence %s failed", evidence_id, exc_info=True)
            continue
        checked += result is not None
        flagged += bool(result)
    return {"checked": checked, "flagged": flagged}
