"""Competency pages: importing a CASE or ESCO file, the skill search of the placement page,
the console editor of an institution's own framework (items, hierarchy, order, retirement),
and the public pages that the URIs minted for custom frameworks and items resolve to.

Every member may read; editors and owners change (the services check again).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frameworks.competencies import selectors, services
from frameworks.competencies.forms import (
    CompetencyFrameworkForm,
    CompetencyImportForm,
    CompetencyItemForm,
)
from frameworks.competencies.selectors import ItemRow
from frameworks.models import CompetencyFramework
from issuers.console import apply_errors, console, console_context, request_user
from issuers.models import Institution, Role
from issuers.permissions import has_role

MAX_IMPORT_BYTES = 20 * 1024 * 1024
IMPORTED_PAGE_SIZE = 100


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
        items = selectors.chosen_items(institution, [pick])
        if not items:
            raise Http404
        return render(request, "frameworks/competency_chip.html", {"item": items[0]})
    query = request.GET.get("q", "").strip()
    results = selectors.search_competencies(institution, query)
    return render(
        request,
        "frameworks/competency_results.html",
        {
            "results": results,
            "institution": institution,
            "query": query,
            # Nothing matched: say what there is to find.
            "contents": [] if results else selectors.framework_contents(institution),
        },
    )


def _back(institution: Institution, framework: CompetencyFramework) -> HttpResponse:
    return redirect(
        "manage:competency_framework", institution=institution.slug, framework=framework.pk
    )


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
            return _back(institution, framework)
    context = console_context(request, institution, form=form, framework=None)
    return render(request, "manage/editor_framework_form.html", context)


@console()
def competency_framework(
    request: HttpRequest, institution: Institution, framework: int
) -> HttpResponse:
    """One competency framework: a custom one as an editable tree, an imported one read-only."""
    user = request_user(request)
    found = selectors.competency_framework_for(user, institution, framework, None)
    custom = found.source == CompetencyFramework.Source.CUSTOM
    can_edit = custom and has_role(user, institution, Role.EDITOR)
    page = None
    rows: list[ItemRow] = []
    if custom:
        rows = selectors.item_rows(found)
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
    user = request_user(request)
    found = selectors.competency_framework_for(
        user, institution, framework, Role.EDITOR, custom=True
    )
    minted = selectors.framework_uri(found)
    form = CompetencyFrameworkForm(
        request.POST or None, initial=CompetencyFrameworkForm.initial_of(found, minted)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_competency_framework(actor=user, framework=found, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The framework was saved."))
            return _back(institution, found)
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
    user = request_user(request)
    found = selectors.competency_framework_for(
        user, institution, framework, Role.EDITOR, custom=True
    )
    form = CompetencyItemForm(
        request.POST or None,
        items=list(found.items.order_by("position", "pk")),
        initial={"parent": request.GET.get("parent", "")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = services.add_competency_item(actor=user, framework=found, **_item_values(form))
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Added “%(item)s”.") % {"item": item.code or item.label})
            return _back(institution, found)
    context = console_context(request, institution, form=form, framework=found, item=None)
    return render(request, "manage/editor_item_form.html", context)


@console(Role.EDITOR)
def competency_item_edit(
    request: HttpRequest, institution: Institution, framework: int, item: int
) -> HttpResponse:
    user = request_user(request)
    current = selectors.competency_item_for(user, institution, framework, item, Role.EDITOR)
    found = current.framework
    minted = selectors.item_uri(current)
    form = CompetencyItemForm(
        request.POST or None,
        items=list(found.items.order_by("position", "pk")),
        exclude={current.pk, *selectors.descendants(current)},
        initial=CompetencyItemForm.initial_of(current, minted),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_competency_item(actor=user, item=current, **_item_values(form))
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The item was saved."))
            return _back(institution, found)
    context = console_context(
        request,
        institution,
        form=form,
        framework=found,
        item=current,
        minted=minted,
        published=selectors.published_uses(current),
        drafts=selectors.draft_uses(current),
    )
    return render(request, "manage/editor_item_form.html", context)


@console(Role.EDITOR)
@require_POST
def competency_item_move(
    request: HttpRequest, institution: Institution, framework: int, item: int
) -> HttpResponse:
    user = request_user(request)
    current = selectors.competency_item_for(user, institution, framework, item, Role.EDITOR)
    services.move_competency_item(
        actor=user, item=current, up=request.POST.get("direction") == "up"
    )
    return _back(institution, current.framework)


@console(Role.EDITOR)
@require_POST
def competency_item_retire(
    request: HttpRequest, institution: Institution, framework: int, item: int
) -> HttpResponse:
    user = request_user(request)
    current = selectors.competency_item_for(user, institution, framework, item, Role.EDITOR)
    retire = request.POST.get("retire", "1") == "1"
    services.retire_competency_item(actor=user, item=current, retired=retire)
    messages.success(
        request,
        (
            _("“%(item)s” was retired: it can no longer be chosen for new alignments.")
            if retire
            else _("“%(item)s” can be chosen again.")
        )
        % {"item": current.code or current.label},
    )
    return _back(institution, current.framework)


@console(Role.EDITOR)
@require_POST
def competency_item_delete(
    request: HttpRequest, institution: Institution, framework: int, item: int
) -> HttpResponse:
    user = request_user(request)
    current = selectors.competency_item_for(user, institution, framework, item, Role.EDITOR)
    name = current.code or current.label
    try:
        services.delete_competency_item(actor=user, item=current)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("“%(item)s” was deleted.") % {"item": name})
    return _back(institution, current.framework)


def competency_framework_public(request: HttpRequest, framework: uuid.UUID) -> HttpResponse:
    """The page a custom framework's minted URI resolves to."""
    found = selectors.public_framework(framework)
    context = {"framework": found, "rows": selectors.item_rows(found), "focus": None}
    return render(request, "manage/editor_public_framework.html", context)


def competency_item_public(
    request: HttpRequest, framework: uuid.UUID, item: uuid.UUID
) -> HttpResponse:
    """The page a custom item's minted URI resolves to: the item, within its framework."""
    found = selectors.public_framework(framework)
    focus = selectors.public_item(found, item)
    context = {"framework": found, "rows": selectors.item_rows(found), "focus": focus}
    return render(request, "manage/editor_public_framework.html", context)
