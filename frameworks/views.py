"""Console pages for frameworks, policies, competencies and placements; one public page per
qualifications framework (the target of level alignments without a URI of their own)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from badges import selectors as badge_selectors
from badges.models import AchievementVersion, VersionStatus
from frameworks import equivalence, export, pathways, policies, recognition, selectors, services
from frameworks.forms import (
    CaseForm,
    CompetencyImportForm,
    DecisionForm,
    EvidenceForm,
    PathwayReviewForm,
    PlacementForm,
    PolicyForm,
    ReviewForm,
    chosen_items,
)
from frameworks.models import (
    EquivalenceStatement,
    FrameworkLevel,
    PathwayCompletion,
    QualificationsFramework,
    RecognitionCase,
)
from issuers.models import Institution, Role
from issuers.permissions import has_role, require_role
from issuers.views import apply_errors, console, console_context, request_user

MAX_IMPORT_BYTES = 20 * 1024 * 1024


def framework_public(request: HttpRequest, code: str) -> HttpResponse:
    framework = get_object_or_404(QualificationsFramework, code=code, owner__isnull=True)
    return render(
        request,
        "frameworks/framework.html",
        {"framework": framework, "levels": framework.levels.all()},
    )


def pathway_clr(request: HttpRequest, completion: uuid.UUID) -> HttpResponse:
    """The signed CLR 2.0 ``ClrCredential`` of a completed pathway, byte for byte."""
    found = get_object_or_404(PathwayCompletion, pk=completion)
    if not found.clr_json:
        raise Http404
    return HttpResponse(
        found.clr_json.encode("utf-8"), content_type="application/vc+ld+json; charset=utf-8"
    )


@console()
def overview(request: HttpRequest, institution: Institution) -> HttpResponse:
    user = request_user(request)
    available = selectors.policies_available(institution)
    form = PolicyForm(
        request.POST or None,
        available=available,
        initial={"policies": selectors.policies_of(institution)},
    )
    if request.method == "POST":
        require_role(user, institution, Role.OWNER)
        if form.is_valid():
            services.choose_policies(
                actor=user, institution=institution, chosen=list(form.cleaned_data["policies"])
            )
            messages.success(request, _("The policies were saved."))
            return redirect("manage:frameworks", institution=institution.slug)
    context = console_context(
        request,
        institution,
        policy_form=form,
        import_form=CompetencyImportForm(),
        can_edit=has_role(user, institution, Role.EDITOR),
        competency_frameworks=selectors.competency_frameworks(institution),
        qualification_frameworks=selectors.qualification_frameworks(institution),
        credit_systems=selectors.credit_systems(),
    )
    return render(request, "manage/frameworks.html", context)


@console(Role.EDITOR)
@require_POST
def competencies_import(request: HttpRequest, institution: Institution) -> HttpResponse:
    form = CompetencyImportForm(request.POST, request.FILES)
    upload = request.FILES.get("file")
    if form.is_valid() and isinstance(upload, UploadedFile):
        if upload.size is not None and upload.size > MAX_IMPORT_BYTES:
            messages.error(request, _("The file is larger than 20 MB."))
        else:
            try:
                framework = services.import_competency_framework(
                    actor=request_user(request),
                    institution=institution,
                    content=bytes(upload.read()),
                    filename=upload.name or "",
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _("Imported %(title)s: %(count)s competencies.")
                    % {"title": framework.title, "count": framework.items.count()},
                )
    else:
        messages.error(request, _("Choose a file to import."))
    return redirect("manage:frameworks", institution=institution.slug)


@console()
def competencies_search(request: HttpRequest, institution: Institution) -> HttpResponse:
    """htmx: matching competencies as results, or (``pick``) one as a selected chip."""
    pick = request.GET.get("pick", "")
    if pick:
        items = chosen_items([pick], selectors.competency_items(institution))
        if not items:
            raise Http404
        return render(request, "frameworks/competency_chip.html", {"item": items[0]})
    results = selectors.search_competencies(institution, request.GET.get("q", ""))
    return render(
        request,
        "frameworks/competency_results.html",
        {"results": results, "institution": institution},
    )


@console()
def placement(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    user = request_user(request)
    found = badge_selectors.achievement_of(institution, achievement)
    versions = list(found.versions.order_by("number"))
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    version = draft or versions[-1]
    can_edit = draft is not None and has_role(user, institution, Role.EDITOR, found.issuer)
    current = selectors.placement_of(version)
    frameworks = list(selectors.qualification_frameworks(institution))
    systems = list(selectors.credit_systems())
    form = PlacementForm(
        request.POST if request.method == "POST" else None,
        instance=current,
        frameworks=frameworks,
        systems=systems,
    )
    items = [a.item for a in current.competencies.all()] if current else []
    if request.method == "POST":
        require_role(user, institution, Role.EDITOR, found.issuer)
        items = chosen_items(
            request.POST.getlist("competency"), selectors.competency_items(institution)
        )
        if form.is_valid():
            try:
                services.save_placement(
                    actor=user,
                    version=version,
                    levels=list(FrameworkLevel.objects.filter(pk__in=form.level_ids())),
                    credits=form.credits(),
                    competencies=items,
                    **form.content(),
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("The placement was saved."))
                return redirect(
                    "manage:achievement_placement",
                    institution=institution.slug,
                    achievement=found.pk,
                )
    issues = policies.check_version(version)
    context = console_context(
        request,
        institution,
        achievement=found,
        version=version,
        form=form,
        can_edit=can_edit,
        selected=items,
        issues=issues,
        words=export.summary(current, request.LANGUAGE_CODE),
    )
    return render(request, "manage/frameworks_placement.html", context)


@console()
def pathway_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Pathways, completions that need review, and one learner's progress (``?email=``)."""
    email = request.GET.get("email", "").strip()
    found = list(institution.pathways.filter(is_active=True).select_related("target"))
    progress = []
    if email:
        for pathway in found:
            progress.append(
                (pathway, pathways.evaluate(pathway, email), pathways.completion_of(pathway, email))
            )
    context = console_context(
        request,
        institution,
        pathways=found,
        email=email,
        progress=progress,
        review=[
            (c, PathwayReviewForm(auto_id=f"review-{c.pk}-%s"))
            for c in pathways.needing_review(institution)
        ],
        can_edit=has_role(request_user(request), institution, Role.EDITOR),
    )
    return render(request, "manage/frameworks_pathways.html", context)


@console(Role.EDITOR)
@require_POST
def pathway_review(
    request: HttpRequest, institution: Institution, completion: uuid.UUID
) -> HttpResponse:
    """Staff answer a pathway award flagged for review: keep it, or revoke it."""
    found = get_object_or_404(
        PathwayCompletion.objects.select_related("pathway", "award"),
        pk=completion,
        pathway__institution=institution,
    )
    form = PathwayReviewForm(request.POST)
    user = request_user(request)
    if not form.is_valid():
        messages.error(request, _("Choose whether to keep or revoke the pathway credential."))
        return redirect("manage:pathways", institution=institution.slug)
    note = form.cleaned_data["note"]
    try:
        if form.cleaned_data["decision"] == "revoke":
            pathways.revoke_completion(actor=user, completion=found, reason=note)
            messages.success(request, _("The pathway credential was revoked."))
        else:
            pathways.keep_completion(actor=user, completion=found, note=note)
            messages.success(request, _("Reviewed: the pathway credential stands."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("manage:pathways", institution=institution.slug)


MAX_EVIDENCE_BYTES = 5 * 1024 * 1024


@console()
def case_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Recognition cases of the institution, and a form to open one."""
    user = request_user(request)
    modules = badge_selectors.achievements_of(institution)
    form = CaseForm(request.POST or None, modules=modules)
    if request.method == "POST":
        require_role(user, institution, Role.EDITOR)
        if form.is_valid():
            try:
                case = recognition.open_case(
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
    cases = list(recognition.cases_of(institution))
    context = console_context(
        request,
        institution,
        form=form,
        cases=cases,
        flagged=sum(1 for c in cases if c.needs_review),
        statements_published=equivalence.statements_of(institution)
        .filter(status=EquivalenceStatement.Status.PUBLISHED)
        .count(),
        can_edit=has_role(user, institution, Role.EDITOR),
    )
    return render(request, "manage/frameworks_recognition.html", context)


@console()
def case_detail(request: HttpRequest, institution: Institution, case: uuid.UUID) -> HttpResponse:
    """One case: the module, the verified evidence in words, the decisions (append-only)."""
    user = request_user(request)
    found = get_object_or_404(RecognitionCase, pk=case, institution=institution)
    suggestions = equivalence.suggestions(found)
    applicable = EquivalenceStatement.objects.filter(
        pk__in=[s.statement.pk for s in suggestions if s.usable]
    )
    evidence_form = EvidenceForm()
    decision_form = DecisionForm(
        initial=suggestions[0].initial() if suggestions else {}, equivalences=applicable
    )
    review_form = ReviewForm()
    if request.method == "POST":
        require_role(user, institution, Role.EDITOR)
        action = request.POST.get("action", "")
        try:
            if action == "evidence":
                evidence_form = EvidenceForm(request.POST, request.FILES)
                upload = request.FILES.get("upload")
                if evidence_form.is_valid():
                    data = None
                    if isinstance(upload, UploadedFile):
                        if upload.size is not None and upload.size > MAX_EVIDENCE_BYTES:
                            raise ValidationError(_("The file is larger than 5 MB."))
                        data = bytes(upload.read())
                    recognition.add_evidence(
                        actor=user,
                        case=found,
                        url=evidence_form.cleaned_data["url"],
                        text=evidence_form.cleaned_data["text"],
                        upload=data,
                        filename=upload.name or "" if isinstance(upload, UploadedFile) else "",
                    )
                    messages.success(request, _("The badge was checked and added."))
                    return redirect(request.path)
            elif action == "decide":
                decision_form = DecisionForm(request.POST, equivalences=applicable)
                if decision_form.is_valid():
                    recognition.decide(
                        actor=user,
                        case=found,
                        outcome=decision_form.cleaned_data["outcome"],
                        rationale=decision_form.cleaned_data["rationale"],
                        credits=decision_form.cleaned_data["credits"],
                        credit_system=decision_form.cleaned_data["credit_system"],
                        equivalence=decision_form.cleaned_data.get("equivalence"),
                    )
                    messages.success(request, _("The decision was recorded."))
                    return redirect(request.path)
            elif action == "reviewed":
                review_form = ReviewForm(request.POST)
                if review_form.is_valid():
                    recognition.mark_reviewed(
                        actor=user, case=found, note=review_form.cleaned_data["note"]
                    )
                    messages.success(request, _("Reviewed: the decision stands."))
                    return redirect(request.path)
            elif action == "recheck":
                flagged = recognition.recheck_case(actor=user, case=found)
                messages.success(
                    request,
                    _("Checked again: %(n)s badge(s) no longer verify.") % {"n": len(flagged)},
                )
                return redirect(request.path)
        except ValidationError as error:
            target = {"decide": decision_form, "reviewed": review_form}.get(action, evidence_form)
            apply_errors(target, error)
    module_version = badge_selectors_latest(found)
    context = console_context(
        request,
        institution,
        case=found,
        module_version=module_version,
        module_words=export.summary(
            selectors.placement_of(module_version) if module_version else None,
            request.LANGUAGE_CODE,
        ),
        evidence=[
            (
                e,
                recognition.summary(e),
                recognition.verdict_line(e.last_verdict),
                recognition.verdict_line(e.verdict),
                recognition.verdict_line(e.later_verdict),
            )
            for e in found.evidence.all()
        ],
        decisions=found.decisions.select_related("credit_system", "decided_by", "equivalence"),
        needs_review=found.needs_review,
        review_headline=recognition.verdict_line(found.review_verdict),
        suggestions=suggestions,
        evidence_form=evidence_form,
        decision_form=decision_form,
        review_form=review_form,
        can_edit=has_role(user, institution, Role.EDITOR),
    )
    return render(request, "manage/frameworks_case.html", context)


def badge_selectors_latest(case: RecognitionCase) -> AchievementVersion | None:
    return case.module.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
