"""Recognition pages of the console: the institution's cases (and opening one), and one case
with its module, the verified evidence in words, matching equivalence statements and the
append-only decisions. Every member may read the cases for the modules of issuers they read
(``selectors.cases_of``); editors and owners change (the services check again).

The case page's forms all post to the page itself, named by a hidden ``action`` field; each
operation is one small function below (:data:`OPERATIONS`), so the page keeps one URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import User
from badges import selectors as badge_selectors
from frameworks.catalogue import export
from frameworks.catalogue import selectors as catalogue_selectors
from frameworks.equivalence import selectors as equivalence_selectors
from frameworks.equivalence.selectors import Suggestion
from frameworks.models import EquivalenceStatement, RecognitionCase
from frameworks.pathways.trees import achievement_name
from frameworks.recognition import selectors, services
from frameworks.recognition.forms import CaseForm, DecisionForm, EvidenceForm, ReviewForm
from issuers.console import apply_errors, console, console_context, request_user
from issuers.models import Institution, Role
from issuers.permissions import has_role, require_role
from verification import ratelimit

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024


@console()
def case_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Recognition cases of the institution, and a form to open one."""
    user = request_user(request)
    form = CaseForm(request.POST or None, modules=badge_selectors.achievements_of(institution))
    if request.method == "POST":
        require_role(user, institution, Role.EDITOR)
        if form.is_valid():
            try:
                case = services.open_case(
                    actor=user,
                    institution=institution,
                    learner_email=form.cleaned_data["learner_email"],
                    learner_name=form.cleaned_data["learner_name"],
                    module=form.cleaned_data["module"],
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                return redirect(
                    "manage:recognition_case", institution=institution.slug, case=case.pk
                )
    cases = list(selectors.cases_of(institution, user))
    context = console_context(
        request,
        institution,
        form=form,
        cases=cases,
        rows=[(case, achievement_name(case.module)) for case in cases],
        flagged=sum(1 for c in cases if c.needs_review),
        statements_published=equivalence_selectors.statements_of(institution)
        .filter(status=EquivalenceStatement.Status.PUBLISHED)
        .count(),
        can_edit=has_role(user, institution, Role.EDITOR),
    )
    return render(request, "manage/frameworks_recognition.html", context)


@dataclass
class _CasePage:
    """The case and the page's three forms; an operation replaces the form it was posted
    with by the bound one, so the page shows that form's errors."""

    case: RecognitionCase
    applicable: QuerySet[EquivalenceStatement]
    evidence_form: EvidenceForm
    decision_form: DecisionForm
    review_form: ReviewForm


def _add_evidence(request: HttpRequest, user: User, page: _CasePage) -> bool:
    """Verify a badge the learner offers and add it to the case."""
    form = page.evidence_form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        return False
    upload = request.FILES.get("upload")
    try:
        data = None
        if isinstance(upload, UploadedFile):
            if upload.size is not None and upload.size > MAX_EVIDENCE_BYTES:
                raise ValidationError(_("The file is larger than 5 MB."))
            data = bytes(upload.read())
        services.add_evidence(
            actor=user,
            case=page.case,
            url=form.cleaned_data["url"],
            text=form.cleaned_data["text"],
            upload=data,
            filename=upload.name or "" if isinstance(upload, UploadedFile) else "",
        )
    except ValidationError as error:
        apply_errors(form, error)
        return False
    except ratelimit.Limited as limited:
        form.add_error(None, limited.message)
        return False
    messages.success(request, _("The badge was checked and added."))
    return True


def _decide(request: HttpRequest, user: User, page: _CasePage) -> bool:
    """Record the assessor's decision."""
    form = page.decision_form = DecisionForm(request.POST, equivalences=page.applicable)
    if not form.is_valid():
        return False
    try:
        services.decide(
            actor=user,
            case=page.case,
            outcome=form.cleaned_data["outcome"],
            rationale=form.cleaned_data["rationale"],
            credits=form.cleaned_data["credits"],
            credit_system=form.cleaned_data["credit_system"],
            equivalence=form.cleaned_data.get("equivalence"),
        )
    except ValidationError as error:
        apply_errors(form, error)
        return False
    messages.success(request, _("The decision was recorded."))
    return True


def _mark_reviewed(request: HttpRequest, user: User, page: _CasePage) -> bool:
    """Keep a flagged decision, saying why."""
    form = page.review_form = ReviewForm(request.POST)
    if not form.is_valid():
        return False
    try:
        services.mark_reviewed(actor=user, case=page.case, note=form.cleaned_data["note"])
    except ValidationError as error:
        apply_errors(form, error)
        return False
    messages.success(request, _("Reviewed: the decision stands."))
    return True


def _recheck(request: HttpRequest, user: User, page: _CasePage) -> bool:
    """Verify every badge of the case again now."""
    try:
        flagged = services.recheck_case(actor=user, case=page.case)
    except ValidationError as error:
        apply_errors(page.evidence_form, error)
        return False
    except ratelimit.Limited as limited:
        page.evidence_form.add_error(None, limited.message)
        return False
    messages.success(
        request, _("Checked again: %(n)s badge(s) no longer verify.") % {"n": len(flagged)}
    )
    return True


#: The case page's POST operations by their ``action``; each returns True when it is done
#: (the page is shown again by a redirect), False to show the page with the form's errors.
OPERATIONS: dict[str, Callable[[HttpRequest, User, _CasePage], bool]] = {
    "evidence": _add_evidence,
    "decide": _decide,
    "reviewed": _mark_reviewed,
    "recheck": _recheck,
}


def _usable(suggestions: list[Suggestion]) -> QuerySet[EquivalenceStatement]:
    return equivalence_selectors.statements_by_id([s.statement.pk for s in suggestions if s.usable])


@console()
def case_detail(request: HttpRequest, institution: Institution, case: uuid.UUID) -> HttpResponse:
    """One case: the module, the verified evidence in words, the decisions (append-only)."""
    user = request_user(request)
    role = Role.EDITOR if request.method == "POST" else None
    found = selectors.case_for(user, institution, case, role)
    suggestions = equivalence_selectors.suggestions(found)
    applicable = _usable(suggestions)
    page = _CasePage(
        case=found,
        applicable=applicable,
        evidence_form=EvidenceForm(),
        decision_form=DecisionForm(
            initial=suggestions[0].initial() if suggestions else {}, equivalences=applicable
        ),
        review_form=ReviewForm(),
    )
    operation = OPERATIONS.get(request.POST.get("action", "")) if request.method == "POST" else None
    if operation is not None and operation(request, user, page):
        return redirect(request.path)
    module_version = badge_selectors.latest_published(found.module)
    context = console_context(
        request,
        institution,
        case=found,
        module_version=module_version,
        module_words=export.summary(
            catalogue_selectors.placement_of(module_version) if module_version else None,
            request.LANGUAGE_CODE,
        ),
        evidence=[
            (
                e,
                selectors.summary(e),
                selectors.verdict_line(e.last_verdict),
                selectors.verdict_line(e.verdict),
                selectors.verdict_line(e.later_verdict),
            )
            for e in found.evidence.all()
        ],
        decisions=found.decisions.select_related("credit_system", "decided_by", "equivalence"),
        needs_review=found.needs_review,
        review_headline=selectors.verdict_line(found.review_verdict),
        suggestions=suggestions,
        evidence_form=page.evidence_form,
        decision_form=page.decision_form,
        review_form=page.review_form,
        can_edit=has_role(user, institution, Role.EDITOR),
    )
    return render(request, "manage/frameworks_case.html", context)
