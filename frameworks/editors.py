"""Console editors of issue #7: an institution's own competency framework (items, hierarchy,
order, retirement) and pathways with their requirement tree; and the public pages that the
platform-minted URIs of custom frameworks and items resolve to.

Every member may read; editors and owners change (``editor_services`` checks again).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from badges import selectors as badge_selectors
from badges.models import VersionStatus
from frameworks import editor_services as services
from frameworks import pathway_editor as pathway_services
from frameworks import selectors
from frameworks.editor_forms import (
    CompetencyFrameworkForm,
    CompetencyItemForm,
    PathwayForm,
    TreeChoices,
    apply_op,
    editor_nodes,
    parse_tree,
    preview,
)
from frameworks.models import CompetencyAlignment, CompetencyFramework, CompetencyItem, Pathway
from frameworks.pathways import GroupSpec
from issuers.models import Institution, Role
from issuers.permissions import has_role, require_role
from issuers.views import apply_errors, console, console_context, request_user

IMPORTED_PAGE_SIZE = 100


# --- Competency frameworks ----------------------------------------------------------------


def _framework(institution: Institution, pk: int, *, custom: bool = False) -> CompetencyFramework:
    found = get_object_or_404(CompetencyFramework, pk=pk, owner=institution)
    if custom and found.source != CompetencyFramework.Source.CUSTOM:
        raise Http404
    return found


def _item(framework: CompetencyFramework, pk: int) -> CompetencyItem:
    return get_object_or_404(
        CompetencyItem.objects.select_related("framework__owner"), pk=pk, framework=framework
    )


@dataclass
class ItemRow:
    item: CompetencyItem
    depth: int
    uses: int = 0
    first: bool = False
    last: bool = False
    children: list[ItemRow] = field(default_factory=list)

    @property
    def indent(self) -> str:
        return f"{self.depth * 1.75:.2f}rem"


def _tree_rows(framework: CompetencyFramework) -> list[ItemRow]:
    """The items in hierarchy order, each with its depth and how many published
    micro-credentials are aligned to it."""
    items = list(framework.items.order_by("position", "pk"))
    uses = dict(
        CompetencyAlignment.objects.filter(
            item__framework=framework, placement__version__status=VersionStatus.PUBLISHED
        )
        .values_list("item")
        .annotate(n=Count("placement__version__achievement", distinct=True))
        .values_list("item", "n")
    )
    children: dict[int | None, list[CompetencyItem]] = {}
    known = {i.pk for i in items}
    for item in items:
        parent = item.parent_id if item.parent_id in known else None
        children.setdefault(parent, []).append(item)
    rows: list[ItemRow] = []

    def add(parent: int | None, depth: int) -> None:
        siblings = children.get(parent, [])
        for n, item in enumerate(siblings):
            rows.append(
                ItemRow(
                    item=item,
                    depth=depth,
                    uses=uses.get(item.pk, 0),
                    first=n == 0,
                    last=n == len(siblings) - 1,
                )
            )
            add(item.pk, depth + 1)

    add(None, 0)
    return rows


@console(Role.EDITOR)
def competency_framework_create(request: HttpRequest, institution: Institution) -> HttpResponse:
    form = CompetencyFrameworkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            framework = services.create_competency_framework(
                actor=request_user(request), institution=institution, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The framework was created. Now add its items."))
            return redirect(
                "manage:competency_framework", institution=institution.slug, framework=framework.pk
            )
    context = console_context(request, institution, form=form, framework=None)
    return render(request, "manage/editor_framework_form.html", context)


@console()
def competency_framework(
    request: HttpRequest, institution: Institution, framework: int
) -> HttpResponse:
    """One competency framework: a custom one as an editable tree, an imported one read-only."""
    found = _framework(institution, framework)
    user = request_user(request)
    custom = found.source == CompetencyFramework.Source.CUSTOM
    can_edit = custom and has_role(user, institution, Role.EDITOR)
    page = None
    rows: list[ItemRow] = []
    if custom:
        rows = _tree_rows(found)
    else:
        page = Paginator(found.items.order_by("label", "pk"), IMPORTED_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    item_form = (
        CompetencyItemForm(items=[r.item for r in rows], auto_id="new_%s") if can_edit else None
    )
    context = console_context(
        request,
        institution,
        framework=found,
        custom=custom,
        can_edit=can_edit,
        rows=rows,
        page=page,
        item_form=item_form,
        retired=sum(1 for r in rows if r.item.retired_at),
    )
    return render(request, "manage/editor_framework.html", context)


@console(Role.EDITOR)
def competency_framework_edit(
    request: HttpRequest, institution: Institution, framework: int
) -> HttpResponse:
    found = _framework(institution, framework, custom=True)
    minted = services.framework_uri(found)
    form = CompetencyFrameworkForm(
        request.POST or None, initial=CompetencyFrameworkForm.initial_of(found, minted)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_competency_framework(
                actor=request_user(request), framework=found, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The framework was saved."))
            return redirect(
                "manage:competency_framework", institution=institution.slug, framework=found.pk
            )
    context = console_context(request, institution, form=form, framework=found, minted=minted)
    return render(request, "manage/editor_framework_form.html", context)


def _item_values(form: CompetencyItemForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "code": data["code"],
        "label_en": data["label_en"],
        "label_zh": data["label_zh"],
        "parent": form.parent_item(),
        "uri": data["uri"],
    }


@console(Role.EDITOR)
def competency_item_create(
    request: HttpRequest, institution: Institution, framework: int
) -> HttpResponse:
    found = _framework(institution, framework, custom=True)
    items = list(found.items.order_by("position", "pk"))
    form = CompetencyItemForm(
        request.POST or None, items=items, initial={"parent": request.GET.get("parent", "")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = services.add_competency_item(
                actor=request_user(request), framework=found, **_item_values(form)
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Added “%(item)s”.") % {"item": item.code or item.label})
            return redirect(
                "manage:competency_framework", institution=institution.slug, framework=found.pk
            )
    context = console_context(request, institution, form=form, framework=found, item=None)
    return render(request, "manage/editor_item_form.html", context)


@console(Role.EDITOR)
def competency_item_edit(
    request: HttpRequest, institution: Institution, framework: int, item: int
) -> HttpResponse:
    found = _framework(institution, framework, custom=True)
    current = _item(found, item)
    minted = services.item_uri(current)
    form = CompetencyItemForm(
        request.POST or None,
        items=list(found.items.order_by("position", "pk")),
        exclude={current.pk, *services.descendants(current)},
        initial=CompetencyItemForm.initial_of(current, minted),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_competency_item(
                actor=request_user(request), item=current, **_item_values(form)
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The item was saved."))
            return redirect(
                "manage:competency_framework", institution=institution.slug, framework=found.pk
            )
    context = console_context(
        request,
        institution,
        form=form,
        framework=found,
        item=current,
        minted=minted,
        published=services.published_uses(current),
        drafts=services.draft_uses(current),
    )
    return render(request, "manage/editor_item_form.html", context)


def _item_action(
    request: HttpRequest, institution: Institution, framework: int, item: int
) -> tuple[CompetencyFramework, CompetencyItem]:
    found = _framework(institution, framework, custom=True)
    return found, _item(found, item)


def _back(institution: Institution, framework: CompetencyFramework) -> HttpResponse:
    return redirect(
        "manage:competency_framework", institution=institution.slug, framework=framework.pk
    )


@console(Role.EDITOR)
@require_POST
def competency_item_move(
    request: HttpRequest, institution: Institution, framework: int, item: int
) -> HttpResponse:
    found, current = _item_action(request, institution, framework, item)
    services.move_competency_item(
        actor=request_user(request), item=current, up=request.POST.get("direction") == "up"
    )
    return _back(institution, found)


@console(Role.EDITOR)
@require_POST
def competency_item_retire(
    request: HttpRequest, institution: Institution, framework: int, item: int
) -> HttpResponse:
    found, current = _item_action(request, institution, framework, item)
    retire = request.POST.get("retire", "1") == "1"
    services.retire_competency_item(actor=request_user(request), item=current, retired=retire)
    messages.success(
        request,
        (
            _("“%(item)s” was retired: it can no longer be chosen for new alignments.")
            if retire
            else _("“%(item)s” can be chosen again.")
        )
        % {"item": current.code or current.label},
    )
    return _back(institution, found)


@console(Role.EDITOR)
@require_POST
def competency_item_delete(
    request: HttpRequest, institution: Institution, framework: int, item: int
) -> HttpResponse:
    found, current = _item_action(request, institution, framework, item)
    name = current.code or current.label
    try:
        services.delete_competency_item(actor=request_user(request), item=current)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("“%(item)s” was deleted.") % {"item": name})
    return _back(institution, found)


def _public_framework(framework: uuid.UUID) -> CompetencyFramework:
    return get_object_or_404(
        CompetencyFramework.objects.select_related("owner"),
        identifier=str(framework),
        source=CompetencyFramework.Source.CUSTOM,
    )


def competency_framework_public(request: HttpRequest, framework: uuid.UUID) -> HttpResponse:
    """The page a custom framework's minted URI resolves to."""
    found = _public_framework(framework)
    context = {"framework": found, "rows": _tree_rows(found), "focus": None}
    return render(request, "manage/editor_public_framework.html", context)


def competency_item_public(
    request: HttpRequest, framework: uuid.UUID, item: uuid.UUID
) -> HttpResponse:
    """The page a custom item's minted URI resolves to: the item, within its framework."""
    found = _public_framework(framework)
    focus = get_object_or_404(CompetencyItem, framework=found, identifier=str(item))
    context = {"framework": found, "rows": _tree_rows(found), "focus": focus}
    return render(request, "manage/editor_public_framework.html", context)


# --- Pathways -----------------------------------------------------------------------------


def _choices(institution: Institution) -> TreeChoices:
    achievements = list(
        badge_selectors.achievements_of(institution).select_related("issuer__institution")
    )
    return TreeChoices(
        achievements={str(a.pk): a for a in achievements},
        systems={str(s.pk): s for s in selectors.credit_systems()},
        levels={str(level.pk): level for level in selectors.levels(institution)},
    )


def _pathway_page(
    request: HttpRequest,
    institution: Institution,
    pathway: Pathway | None,
) -> HttpResponse:
    """The editor: shows the tree, applies "add"/"remove" buttons, saves on "Save"."""
    user = request_user(request)
    can_edit = has_role(user, institution, Role.EDITOR)
    choices = _choices(institution)
    achievements = list(choices.achievements.values())
    completed = pathway.completions.count() if pathway else 0
    errors: list[str] = []
    if request.method == "POST":
        require_role(user, institution, Role.EDITOR)
        form = PathwayForm(request.POST, achievements=achievements)
        form.is_valid()
        root, errors = parse_tree(request.POST, choices)
        op = request.POST.get("op", "save")
        target = form.target_achievement()
        if form.cleaned_data.get("target") and target is None:
            errors.append(_("The credential a pathway awards must be one of your institution's."))
        if op != "save":
            root = apply_op(root, op)
        elif not errors:
            values = {
                "actor": user,
                "title_en": form.cleaned_data.get("title_en", ""),
                "title_zh": form.cleaned_data.get("title_zh", ""),
                "target": target,
                "root": root,
            }
            try:
                if pathway is None:
                    saved = pathway_services.create_pathway(institution=institution, **values)
                else:
                    saved = pathway_services.update_pathway(pathway=pathway, **values)
            except ValidationError as error:
                errors = list(error.messages)
            else:
                messages.success(request, _("The pathway was saved."))
                return redirect(
                    "manage:pathway_edit", institution=institution.slug, pathway=saved.pk
                )
    elif pathway is not None:
        form = PathwayForm(
            initial={
                "title_en": pathway.title_en,
                "title_zh": pathway.title_zh,
                "target": str(pathway.target_id),
            },
            achievements=achievements,
        )
        root = pathway_services.spec_of(pathway)
        target = pathway.target
    else:
        form = PathwayForm(achievements=achievements)
        root = GroupSpec(rule="all", achievements=[], children=[])
        target = None
    check = pathway_services.check_tree(root, institution, target)
    title_en = str(form["title_en"].value() or "")
    title_zh = str(form["title_zh"].value() or "")
    context = console_context(
        request,
        institution,
        pathway=pathway,
        form=form,
        can_edit=can_edit,
        tree=editor_nodes(root),
        achievements=[
            (str(a.pk), pathway_services.achievement_name(a), a.slug) for a in achievements
        ],
        systems=list(choices.systems.values()),
        levels=list(choices.levels.values()),
        rules=pathway_services.Rule.choices,
        errors=errors,
        warnings=check.warnings,
        preview=preview(root, title_en, title_zh, target),
        completed=completed,
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
    found = get_object_or_404(Pathway, pk=pathway, institution=institution)
    return _pathway_page(request, institution, found)


@console(Role.EDITOR)
@require_POST
def pathway_set_active(
    request: HttpRequest, institution: Institution, pathway: uuid.UUID
) -> HttpResponse:
    found = get_object_or_404(Pathway, pk=pathway, institution=institution)
    active = request.POST.get("active") == "1"
    pathway_services.set_pathway_active(actor=request_user(request), pathway=found, active=active)
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


@console()
def pathways_deactivated(request: HttpRequest, institution: Institution) -> HttpResponse:
    found = institution.pathways.filter(is_active=False).select_related("target")
    context = console_context(
        request,
        institution,
        pathways=found,
        can_edit=has_role(request_user(request), institution, Role.EDITOR),
    )
    return render(request, "manage/editor_pathways_deactivated.html", context)
