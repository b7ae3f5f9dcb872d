"""The issuer's side of identity changes, in the staff console (``manage`` namespace)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import User
from earners import identity
from issuers.models import Institution, Role
from issuers.permissions import has_role, role_in
from issuers.views import console


@console(Role.VIEWER)
@require_http_methods(["GET", "HEAD", "POST"])
def identity_changes(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Requests to re-issue a badge to another of the learner's addresses; awarders decide."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - console() admits signed-in users only
    changes = identity.pending_for(institution)
    if request.method == "POST":
        try:
            change = changes.filter(pk=uuid.UUID(request.POST.get("change", ""))).first()
        except ValueError:
            change = None
        if change is None:
            messages.error(request, _("That request does not exist."))
            return redirect("manage:identity_changes", institution=institution.slug)
        try:
            identity.decide_identity_change(
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
    context = {
        "institution": institution,
        "my_role": role_in(user, institution),
        "is_owner": has_role(user, institution, Role.OWNER),
        "changes": changes[:200],
        "can_decide": has_role(user, institution, Role.AWARDER),
    }
    return render(request, "earners/identity_changes.html", context)
