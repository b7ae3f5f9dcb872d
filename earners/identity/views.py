"""The issuer's side of identity changes, in the staff console (``manage`` namespace)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from earners.identity import selectors, services
from issuers.console import console, console_context, request_user
from issuers.models import Institution, Role
from issuers.permissions import has_role, visible_issuers


@console(Role.VIEWER)
@require_http_methods(["GET", "HEAD", "POST"])
def identity_changes(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Requests to re-issue a badge to another of the learner's addresses; awarders decide."""
    user = request_user(request)
    changes = selectors.pending_for(institution)
    visible = visible_issuers(user, institution)
    if visible is not None:  # staff of some issuers decide (and see) those issuers' badges
        changes = changes.filter(award__issuer_id__in=visible)
    if request.method == "POST":
        try:
            change = changes.filter(pk=uuid.UUID(request.POST.get("change", ""))).first()
        except ValueError:
            change = None
        if change is None:
            messages.error(request, _("That request does not exist."))
            return redirect("manage:identity_changes", institution=institution.slug)
        try:
            services.decide_identity_change(
                actor=user,
                institution=institution,
                change=change,
                approve=request.POST.get("decision") == "approve",
            )
        except ValidationError as failure:
            messages.error(request, " ".join(failure.messages))
        else:
            messages.success(request, _("The request is decided."))
        return redirect("manage:identity_changes", institution=institution.slug)
    context = console_context(
        request,
        institution,
        changes=changes[:200],
        can_decide=has_role(user, institution, Role.AWARDER),
    )
    return render(request, "earners/identity_changes.html", context)
