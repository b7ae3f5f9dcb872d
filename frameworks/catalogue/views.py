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

from badges import selectors as badge_selectors
from badges.models import VersionStatus
from frameworks.catalogue import export, policies, selectors, services
from frameworks.catalogue.forms import PlacementForm, PolicyForm
from frameworks.competencies import selectors as competency_selectors
from frameworks.competencies.forms import CompetencyImportForm
from issuers.console import apply_errors, console, console_context, request_user
from issuers.models import Institution, Role
from issuers.permissions import has_role, require_role


def framework_public(request: HttpRequest, code: str) -> HttpResponse:
    framework = selectors.public_framework(code)
    return render(
        request,
        "frameworks/framework.html",
        {"framework": framework, "levels": framework.levels.all()},
    )


@console()
def overview(request: HttpRequest, institution: Institution) -> HttpResponse:
    """The institution's policies (owners choose them), competency frameworks and the
    reference frameworks and credit systems."""
    user = request_user(request)
    form = PolicyForm(
        request.POST or None,
        available=selectors.policies_available(institution),
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
        competency_frameworks=competency_selectors.competency_frameworks(institution),
        qualification_frameworks=selectors.qualification_frameworks(institution),
        credit_systems=selectors.credit_systems(),
    )
    return render(request, "manage/frameworks.html", context)


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
    if request.method == "POST":
        items = competency_selectors.chosen_items(institution, request.POST.getlist("competency"))
        if form.is_valid():
            try:
                services.save_placement(
                    actor=user,
                    version=version,
                    levels=selectors.levels_chosen(form.level_ids()),
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
    context = console_context(
        request,
        institution,
        achievement=found,
        version=version,
        form=form,
        can_edit=draft is not None and has_role(user, institution, Role.EDITOR, found.issuer),
        selected=items,
        issues=policies.check_version(version, current),
        words=export.summary(current, request.LANGUAGE_CODE),
    )
    return render(request, "manage/frameworks_placement.html", context)
