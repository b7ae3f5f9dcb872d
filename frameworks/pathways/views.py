"""Pathway pages: the console list (pathways, completions that need review, one learner's
progress), the pathway editor and the deactivated pathways; and the public, signed CLR of a
completion. Every member may read; editors and owners change (the services check again).
The review of a flagged completion is answered by the awarding layer, which may revoke the
pathway credential.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from badges import selectors as badge_selectors
from badges.models import Achievement
from frameworks.catalogue import selectors as catalogue_selectors
from frameworks.models import Pathway
from frameworks.pathways import selectors, services, trees
from frameworks.pathways.forms import (
    PathwayForm,
    PathwayReviewForm,
    TreeChoices,
    apply_op,
    editor_nodes,
    parse_tree,
    preview,
)
from frameworks.pathways.trees import GroupSpec
from issuers.console import console, console_context, request_user
from issuers.models import Institution, Role
from issuers.permissions import has_role, may_read, visible_issuers


def pathway_clr(request: HttpRequest, completion: uuid.UUID) -> HttpResponse:
    """The signed CLR 2.0 ``ClrCredential`` of a completed pathway, byte for byte."""
    found = selectors.public_completion(completion)
    if not found.clr_json:
        raise Http404
    return HttpResponse(
        found.clr_json.encode("utf-8"), content_type="application/vc+ld+json; charset=utf-8"
    )


@console()
def pathway_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Pathways, completions that need review, and one learner's progress (``?email=``).

    A pathway may count any issuer's badges, so a learner's progress is for institution-wide
    staff; staff of some issuers see the completions under review of those issuers only."""
    user = request_user(request)
    can_track = visible_issuers(user, institution) is None
    email = request.GET.get("email", "").strip() if can_track else ""
    found = list(selectors.pathways_of(institution, active=True))
    progress = [
        (pathway, selectors.evaluate(pathway, email), selectors.completion_of(pathway, email))
        for pathway in (found if email else [])
    ]
    review = [
        c
        for c in selectors.needing_review(institution)
        if all(
            may_read(user, institution, award.issuer_id)
            for award in (c.award, c.review_award)
            if award is not None
        )
    ]
    context = console_context(
        request,
        institution,
        pathways=found,
        email=email,
        can_track=can_track,
        progress=progress,
        review=[(c, PathwayReviewForm(auto_id=f"review-{c.pk}-%s")) for c in review],
        can_edit=has_role(user, institution, Role.EDITOR),
    )
    return render(request, "manage/frameworks_pathways.html", context)


@console()
def pathways_deactivated(request: HttpRequest, institution: Institution) -> HttpResponse:
    context = console_context(
        request,
        institution,
        pathways=selectors.pathways_of(institution, active=False),
        can_edit=has_role(request_user(request), institution, Role.EDITOR),
    )
    return render(request, "manage/editor_pathways_deactivated.html", context)


def _choices(institution: Institution) -> TreeChoices:
    """What the tree may name: the institution's achievements, credit systems and levels."""
    achievements = list(
        badge_selectors.achievements_of(institution).select_related("issuer__institution")
    )
    return TreeChoices(
        achievements={str(a.pk): a for a in achievements},
        systems={str(s.pk): s for s in catalogue_selectors.credit_systems()},
        levels={str(level.pk): level for level in catalogue_selectors.levels(institution)},
    )


def _save(
    user: User,
    institution: Institution,
    pathway: Pathway | None,
    form: PathwayForm,
    target: Achievement | None,
    root: GroupSpec,
) -> tuple[Pathway | None, list[str]]:
    """Create or update the pathway: the saved pathway, or every problem in words."""
    title_en = form.cleaned_data.get("title_en", "")
    title_zh = form.cleaned_data.get("title_zh", "")
    try:
        if pathway is None:
            saved = services.create_pathway(
                actor=user,
                institution=institution,
                title_en=title_en,
                title_zh=title_zh,
                target=target,
                root=root,
            )
        else:
            saved = services.update_pathway(
                actor=user,
                pathway=pathway,
                title_en=title_en,
                title_zh=title_zh,
                target=target,
                root=root,
            )
    except ValidationError as error:
        return None, list(error.messages)
    return saved, []


def _pathway_page(
    request: HttpRequest, institution: Institution, pathway: Pathway | None
) -> HttpResponse:
    """The editor: shows the tree, applies "add"/"remove" buttons, saves on "Save". The
    caller has checked that a POST comes from an editor."""
    user = request_user(request)
    choices = _choices(institution)
    achievements = list(choices.achievements.values())
    errors: list[str] = []
    target: Achievement | None
    if request.method == "POST":
        form = PathwayForm(request.POST, achievements=achievements)
        form.is_valid()
        root, errors = parse_tree(request.POST, choices)
        target = form.target_achievement()
        if form.cleaned_data.get("target") and target is None:
            errors.append(_("The credential a pathway awards must be one of your institution's."))
        op = request.POST.get("op", "save")
        if op != "save":
            root = apply_op(root, op)
        elif not errors:
            saved, errors = _save(user, institution, pathway, form, target, root)
            if saved is not None:
                messages.success(request, _("The pathway was saved."))
                return redirect(
                    "manage:pathway_edit", institution=institution.slug, pathway=saved.pk
                )
    elif pathway is not None:
        initial = {
            "title_en": pathway.title_en,
            "title_zh": pathway.title_zh,
            "target": str(pathway.target_id),
        }
        form = PathwayForm(initial=initial, achievements=achievements)
        root = trees.spec_of(pathway)
        target = pathway.target
    else:
        form = PathwayForm(achievements=achievements)
        root = GroupSpec(rule="all", achievements=[], children=[])
        target = None
    check = trees.check_tree(root, institution, target)
    context = console_context(
        request,
        institution,
        pathway=pathway,
        form=form,
        can_edit=has_role(user, institution, Role.EDITOR),
        tree=editor_nodes(root),
        achievements=[(str(a.pk), trees.achievement_name(a), a.slug) for a in achievements],
        systems=list(choices.systems.values()),
        levels=list(choices.levels.values()),
        rules=trees.Rule.choices,
        errors=errors,
        warnings=check.warnings,
        preview=preview(
            root,
            str(form["title_en"].value() or ""),
            str(form["title_zh"].value() or ""),
            target,
        ),
        completed=pathway.completions.count() if pathway else 0,
        unsaved=request.method == "POST",
    )
    return render(request, "manage/editor_pathway.html", context)


@console(Role.EDITOR)
def pathway_create(request: HttpRequest, institution: Institution) -> HttpResponse:
    return _pathway_page(request, institution, None)


@console()
def pathway_edit(
    request: HttpRequest, institution: Institution, pathway: uuid.UUID
) -> HttpResponse:
    role = Role.EDITOR if request.method == "POST" else None
    found = selectors.pathway_for(request_user(request), institution, pathway, role)
    return _pathway_page(request, institution, found)


@console(Role.EDITOR)
@require_POST
def pathway_set_active(
    request: HttpRequest, institution: Institution, pathway: uuid.UUID
) -> HttpResponse:
    user = request_user(request)
    found = selectors.pathway_for(user, institution, pathway, Role.EDITOR)
    active = request.POST.get("active") == "1"
    services.set_pathway_active(actor=user, pathway=found, active=active)
    messages.success(
        request,
        _("The pathway is active again: learners complete it from their next badge on.")
        if active
        else _(
            "The pathway was deactivated: nobody completes it from now on. Learners who "
            "completed it keep their credential."
        ),
    )
    return redirect("manage:pathway_edit", institution=institution.slug, pathway=found.pk)
