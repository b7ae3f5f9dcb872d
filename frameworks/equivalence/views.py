"""Equivalence statement pages: the console screens (any member reads; editors and owners
write) and the public register (published statements of every institution).

A statement's console page has three forms (save the draft, publish, withdraw) that post to
the page itself, named by a hidden ``action`` field; each operation is one small function
below (:data:`OPERATIONS`), so the page keeps one URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import selectors as badge_selectors
from frameworks.catalogue import selectors as catalogue_selectors
from frameworks.equivalence import selectors, services
from frameworks.equivalence.forms import EquivalenceForm, WithdrawForm
from frameworks.models import EquivalenceStatement
from frameworks.pathways.trees import achievement_name
from issuers.console import apply_errors, console, console_context, request_user
from issuers.models import Institution, Role
from issuers.permissions import has_role

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
        levels=catalogue_selectors.levels(institution).order_by("framework__code", "ordinal"),
    )


@console()
def statement_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    """The institution's statements, drafts and withdrawn ones included."""
    statements = list(
        selectors.statements_of(institution)
        .prefetch_related("local_achievement__versions")
        .order_by("status", "provider_name", "title")
    )
    today = timezone.localdate()
    context = console_context(
        request,
        institution,
        statements=[
            (
                s,
                s.is_current(today),
                achievement_name(s.local_achievement) if s.local_achievement else "",
            )
            for s in statements
        ],
        can_edit=has_role(request_user(request), institution, Role.EDITOR),
    )
    return render(request, "manage/equivalences.html", context)


def _copy_of(institution: Institution, source: str) -> dict[str, object]:
    """Initial values from another statement of the institution (``?from=``): a withdrawn
    or published statement is replaced by a new draft."""
    try:
        found = selectors.statements_of(institution).filter(pk=uuid.UUID(source)).first()
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
            statement = services.create_statement(
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


@dataclass
class _StatementPage:
    """The statement and the page's forms (bound to a POST): the draft's, if it is one, and
    the withdrawal's."""

    statement: EquivalenceStatement
    form: EquivalenceForm | None
    withdraw_form: WithdrawForm


def _save(request: HttpRequest, user: User, page: _StatementPage) -> bool:
    """Save the draft; its errors are shown on its form."""
    if page.form is None or not page.form.is_valid():
        return False
    try:
        services.update_statement(
            actor=user, statement=page.statement, data=page.form.data_for_service()
        )
    except ValidationError as error:
        apply_errors(page.form, error)
        return False
    messages.success(request, _("The draft statement was saved."))
    return True


def _publish(request: HttpRequest, user: User, page: _StatementPage) -> bool:
    services.publish_statement(actor=user, statement=page.statement)
    messages.success(request, _("The statement is published."))
    return True


def _withdraw(request: HttpRequest, user: User, page: _StatementPage) -> bool:
    if not page.withdraw_form.is_valid():
        return False
    services.withdraw_statement(
        actor=user, statement=page.statement, reason=page.withdraw_form.cleaned_data["reason"]
    )
    messages.success(request, _("The statement was withdrawn."))
    return True


#: The statement page's POST operations by their ``action``; each returns True when it is
#: done (the page is shown again by a redirect), False to show the page with the form's
#: errors. A refusal by publishing or withdrawing is shown as a message.
OPERATIONS: dict[str, Callable[[HttpRequest, User, _StatementPage], bool]] = {
    "save": _save,
    "publish": _publish,
    "withdraw": _withdraw,
}


@console()
def statement_detail(
    request: HttpRequest, institution: Institution, statement: uuid.UUID
) -> HttpResponse:
    """One statement; a draft is edited here, then published; a published one withdrawn."""
    user = request_user(request)
    role = Role.EDITOR if request.method == "POST" else None
    found = selectors.statement_for(user, institution, statement, role)
    page = _StatementPage(
        statement=found,
        form=_form(request, institution, instance=found) if found.status == Status.DRAFT else None,
        withdraw_form=WithdrawForm(request.POST if request.method == "POST" else None),
    )
    operation = OPERATIONS.get(request.POST.get("action", "")) if request.method == "POST" else None
    if operation is not None:
        try:
            if operation(request, user, page):
                return redirect(request.path)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(request.path)
    context = console_context(
        request,
        institution,
        statement=found,
        form=page.form,
        withdraw_form=page.withdraw_form,
        can_edit=has_role(user, institution, Role.EDITOR),
        is_current=found.is_current(),
        local_name=selectors.local_name(found.local_achievement),
        decisions=found.decisions.select_related("case").order_by("-decided_at")[:50],
    )
    return render(request, "manage/equivalence_detail.html", context)


def register(request: HttpRequest) -> HttpResponse:
    """The public register: every published statement, searchable by title or provider."""
    query = request.GET.get("q", "").strip()[:200]
    rows = selectors.public_statements()
    slug = request.GET.get("institution", "").strip()
    if slug:
        rows = rows.filter(institution__slug=slug)
    if query:
        rows = rows.filter(Q(title__icontains=query) | Q(provider_name__icontains=query))
    today = timezone.localdate()
    statements = [
        (s, s.is_current(today), selectors.local_name(s.local_achievement)) for s in rows[:500]
    ]
    return render(
        request,
        "frameworks/equivalences.html",
        {"statements": statements, "query": query, "institution_slug": slug},
    )


def public_statement(request: HttpRequest, statement: uuid.UUID) -> HttpResponse:
    """A published statement; a withdrawn one says so (410); a draft does not exist."""
    found = selectors.public_statement(statement)
    response = render(
        request,
        "frameworks/equivalence.html",
        {
            "statement": found,
            "is_current": found.is_current(),
            "local_name": selectors.local_name(found.local_achievement),
        },
    )
    if found.status == Status.WITHDRAWN:
        response.status_code = 410
    return response
