"""Equivalence statements: the console screens (any member reads; editors and owners write)
and the public register (published statements of every institution)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from badges import selectors as badge_selectors
from frameworks import equivalence, selectors
from frameworks.forms import EquivalenceForm, WithdrawForm
from frameworks.models import EquivalenceStatement
from issuers.models import Institution, Role
from issuers.permissions import has_role, require_role
from issuers.views import apply_errors, console, console_context, request_user

Status = EquivalenceStatement.Status


def _form(
    request: HttpRequest,
    institution: Institution,
    instance: EquivalenceStatement | None = None,
    initial: dict[str, object] | None = None,
) -> EquivalenceForm:
    return EquivalenceForm(
        request.POST if request.method == "POST" else None,
        instance=instance,
        initial=initial,
        modules=badge_selectors.achievements_of(institution),
        levels=selectors.levels(institution).order_by("framework__code", "ordinal"),
    )


@console()
def statement_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    """The institution's statements, drafts and withdrawn ones included."""
    statements = list(
        equivalence.statements_of(institution).order_by("status", "provider_name", "title")
    )
    today = timezone.localdate()
    context = console_context(
        request,
        institution,
        statements=[(s, s.is_current(today)) for s in statements],
        can_edit=has_role(request_user(request), institution, Role.EDITOR),
    )
    return render(request, "manage/equivalences.html", context)


def _copy_of(institution: Institution, source: str) -> dict[str, object]:
    """Initial values from another statement of the institution (``?from=``): a withdrawn
    or published statement is replaced by a new draft."""
    try:
        found = equivalence.statements_of(institution).filter(pk=uuid.UUID(source)).first()
    except ValueError:
        found = None
    if found is None:
        return {"valid_from": timezone.localdate()}
    names = EquivalenceForm.Meta.fields
    initial: dict[str, object] = {name: getattr(found, name) for name in names}
    initial["valid_from"] = timezone.localdate()
    initial["valid_until"] = None
    return initial


@console(Role.EDITOR)
def statement_create(request: HttpRequest, institution: Institution) -> HttpResponse:
    user = request_user(request)
    form = _form(request, institution, initial=_copy_of(institution, request.GET.get("from", "")))
    if request.method == "POST" and form.is_valid():
        try:
            statement = equivalence.create_statement(
                actor=user, institution=institution, data=form.data_for_service()
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The draft statement was saved."))
            return redirect(
                "manage:equivalence_detail", institution=institution.slug, statement=statement.pk
            )
    context = console_context(request, institution, form=form, statement=None)
    return render(request, "manage/equivalence_form.html", context)


@console()
def statement_detail(
    request: HttpRequest, institution: Institution, statement: uuid.UUID
) -> HttpResponse:
    """One statement; a draft is edited here, then published; a published one withdrawn."""
    user = request_user(request)
    found = get_object_or_404(equivalence.statements_of(institution), pk=statement)
    can_edit = has_role(user, institution, Role.EDITOR)
    form = _form(request, institution, instance=found) if found.status == Status.DRAFT else None
    withdraw_form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        require_role(user, institution, Role.EDITOR)
        action = request.POST.get("action", "")
        try:
            if action == "save" and form is not None:
                if form.is_valid():
                    equivalence.update_statement(
                        actor=user, statement=found, data=form.data_for_service()
                    )
                    messages.success(request, _("The draft statement was saved."))
                    return redirect(request.path)
            elif action == "publish":
                equivalence.publish_statement(actor=user, statement=found)
                messages.success(request, _("The statement is published."))
                return redirect(request.path)
            elif action == "withdraw" and withdraw_form.is_valid():
                equivalence.withdraw_statement(
                    actor=user, statement=found, reason=withdraw_form.cleaned_data["reason"]
                )
                messages.success(request, _("The statement was withdrawn."))
                return redirect(request.path)
        except ValidationError as error:
            if action == "save" and form is not None:
                apply_errors(form, error)
            else:
                messages.error(request, " ".join(error.messages))
                return redirect(request.path)
    context = console_context(
        request,
        institution,
        statement=found,
        form=form,
        withdraw_form=WithdrawForm() if request.method != "POST" else withdraw_form,
        can_edit=can_edit,
        is_current=found.is_current(),
        local_name=equivalence.local_name(found.local_achievement),
        decisions=found.decisions.select_related("case").order_by("-decided_at")[:50],
    )
    return render(request, "manage/equivalence_detail.html", context)


def register(request: HttpRequest) -> HttpResponse:
    """The public register: every published statement, searchable by title or provider."""
    query = request.GET.get("q", "").strip()[:200]
    rows = equivalence.public_statements()
    slug = request.GET.get("institution", "").strip()
    if slug:
        rows = rows.filter(institution__slug=slug)
    if query:
        rows = rows.filter(Q(title__icontains=query) | Q(provider_name__icontains=query))
    today = timezone.localdate()
    statements = [
        (s, s.is_current(today), equivalence.local_name(s.local_achievement)) for s in rows[:500]
    ]
    return render(
        request,
        "frameworks/equivalences.html",
        {"statements": statements, "query": query, "institution_slug": slug},
    )


def public_statement(request: HttpRequest, statement: uuid.UUID) -> HttpResponse:
    """A published statement; a withdrawn one says so (410); a draft does not exist."""
    found = get_object_or_404(
        EquivalenceStatement.objects.select_related(
            "institution", "level__framework", "credit_system", "local_achievement"
        ).exclude(status=Status.DRAFT),
        pk=statement,
    )
    if found.status not in (Status.PUBLISHED, Status.WITHDRAWN):  # pragma: no cover
        raise Http404
    response = render(
        request,
        "frameworks/equivalence.html",
        {
            "statement": found,
            "is_current": found.is_current(),
            "local_name": equivalence.local_name(found.local_achievement),
        },
    )
    if found.status == Status.WITHDRAWN:
        response.status_code = 410
    return response
