"""Catalogue pages: the console's frameworks overview (policies, competency frameworks,
reference frameworks), a version's placement page, and one public page per reference
framework (the target of level alignments without a URI of their own)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from badges import selectors as badge_selectors
from badges.models import VersionStatus
from frameworks.catalogue import export, policies, selectors, services
from frameworks.catalogue.forms import PlacementForm, PolicyForm, scope_label
from frameworks.competencies import selectors as competency_selectors
from frameworks.competencies.forms import CompetencyImportForm
from issuers import selectors as issuer_selectors
from issuers.console import apply_errors, console, console_context, request_user
from issuers.models import Institution, Role
from issuers.permissions import has_role, require_role
from verification import annex


def framework_public(request: HttpRequest, code: str) -> HttpResponse:
    framework = selectors.public_framework(code)
    return render(
        request,
        "frameworks/framework.html",
        {"framework": framework, "levels": framework.levels.all()},
    )


@console()
def overview(request: HttpRequest, institution: Institution) -> HttpResponse:
    """The institution's policies (owners choose them, after seeing what the change would
    block), competency frameworks and the reference frameworks and credit systems."""
    user = request_user(request)
    choices = selectors.policy_choices_by_id(institution.pk)
    form = PolicyForm(
        request.POST if request.method == "POST" else None,
        available=list(selectors.policies_available(institution)),
        issuers=list(issuer_selectors.issuers_of(institution)),
        chosen=choices,
    )
    if request.method == "POST":
        require_role(user, institution, Role.OWNER)
        if form.is_valid():
            chosen = form.chosen()
            if request.POST.get("confirm") != "yes":
                impact = policies.policy_impact(institution.pk, chosen)
                context = console_context(
                    request,
                    institution,
                    form=form,
                    impact=impact,
                    chosen=[(policy, scope_label(form, policy)) for policy, _s in chosen],
                )
                return render(request, "manage/frameworks_confirm.html", context)
            try:
                services.choose_policies(actor=user, institution=institution, chosen=chosen)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _saved_message(institution.pk))
                return redirect("manage:frameworks", institution=institution.slug)
    context = console_context(
        request,
        institution,
        policy_form=form,
        policy_choices=choices,
        import_form=CompetencyImportForm(),
        can_edit=has_role(user, institution, Role.EDITOR),
        competency_frameworks=competency_selectors.competency_frameworks(institution),
        qualification_frameworks=selectors.qualification_frameworks(institution),
        credit_systems=selectors.credit_systems(),
    )
    return render(request, "manage/frameworks.html", context)


def _saved_message(institution_id: int) -> str:
    """What the saved policies now block, in one sentence."""
    impact = policies.policy_impact(institution_id, policies.scoped_policies(institution_id))
    if not impact.blocked:
        return _("The policies were saved. Every micro-credential meets them.")
    return ngettext(
        "The policies were saved. %(n)s of %(total)s micro-credentials does not meet them yet.",
        "The policies were saved. %(n)s of %(total)s micro-credentials do not meet them yet.",
        len(impact.blocked),
    ) % {"n": len(impact.blocked), "total": impact.total}


@console()
def placement(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    """Where the achievement's draft (or, without one, its latest version) sits; editors of
    its issuer change the draft's placement."""
    user = request_user(request)
    role = Role.EDITOR if request.method == "POST" else None
    found = badge_selectors.achievement_for(user, institution, achievement, role)
    versions = list(found.versions.all())  # prefetched in number order
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    version = draft or versions[-1]
    current = selectors.placement_of(version)
    form = PlacementForm(
        request.POST if request.method == "POST" else None,
        instance=current,
        frameworks=list(selectors.qualification_frameworks(institution)),
        systems=list(selectors.credit_systems()),
    )
    items = [a.item for a in current.competencies.all()] if current else []
    issues = policies.check_version(version, current)
    checked = False
    newly_blocking: list[policies.PolicyIssue] = []
    if request.method == "POST":
        items = competency_selectors.chosen_items(institution, request.POST.getlist("competency"))
        action = request.POST.get("action", "save")
        if form.is_valid():
            given = {
                "actor": user,
                "version": version,
                "levels": selectors.levels_chosen(form.level_ids()),
                "credits": form.credits(),
                "competencies": items,
                **form.content(),
            }
            try:
                proposed = services.check_placement(**given) if action in ("check", "save") else []
                before = {str(issue) for issue in issues if issue.blocking}
                newly_blocking = [i for i in proposed if i.blocking and str(i) not in before]
                if action == "check" or (action == "save" and newly_blocking):
                    issues, checked = proposed, True
                else:
                    services.save_placement(**given)
            except ValidationError as error:
                apply_errors(form, error)
                newly_blocking = []
            else:
                if not checked:
                    messages.success(request, _("The placement was saved."))
                    return redirect(
                        "manage:achievement_placement",
                        institution=institution.slug,
                        achievement=found.pk,
                    )
                if action == "check":
                    newly_blocking = []
    context = console_context(
        request,
        institution,
        achievement=found,
        version=version,
        form=form,
        can_edit=draft is not None and has_role(user, institution, Role.EDITOR, found.issuer),
        selected=items,
        issues=issues,
        checked=checked,
        confirm=newly_blocking,
        applying=policies.policies_for(version),
        words=export.summary(current, request.LANGUAGE_CODE),
        microcredential=(
            annex.data_of(export.microcredential_record(current, request.LANGUAGE_CODE))
            if current is not None
            else {}
        ),
    )
    return render(request, "manage/frameworks_placement.html", context)
