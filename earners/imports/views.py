"""The learner's imports page: import a badge from elsewhere, re-check or remove one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import User
from earners.imports import selectors, services
from earners.views import learner
from verification import ratelimit
from verification.extract import UPLOAD_MAX_BYTES


def _limited(request: HttpRequest, user: User, limited: ratelimit.Limited) -> HttpResponse:
    """Over the learner's verification limit (shared with the verify page and API)."""
    response = render(
        request,
        "earners/imports.html",
        {"imported": selectors.imports_of(user), "error": limited.message},
        status=429,
    )
    response["Retry-After"] = str(limited.retry_after)
    return response


@learner
@require_http_methods(["GET", "HEAD", "POST"])
def import_view(request: HttpRequest, user: User) -> HttpResponse:
    """Import a badge from elsewhere: a link, pasted JSON or a baked image."""
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "import")
        if action in ("remove", "recheck"):
            found = selectors.import_for(user, request.POST.get("id", ""))
            if action == "remove":
                services.remove_import(user=user, imported=found)
                messages.success(request, _("The imported badge is removed."))
            else:
                try:
                    services.recheck_import(imported=found, by_learner=True)
                except ratelimit.Limited as limited:
                    return _limited(request, user, limited)
                messages.success(request, _("Checked again just now."))
            return redirect("earners:imports")
        upload = request.FILES.get("file")
        try:
            imported = services.import_badge(
                user=user,
                url=request.POST.get("url", ""),
                text=request.POST.get("text", ""),
                upload=upload.read(UPLOAD_MAX_BYTES + 1) if upload is not None else None,
                filename=upload.name or "" if upload is not None else "",
            )
        except ValidationError as failure:
            error = " ".join(failure.messages)
        except ratelimit.Limited as limited:
            return _limited(request, user, limited)
        else:
            messages.success(
                request,
                _("Imported “%(name)s”: %(verdict)s")
                % {"name": imported.name or _("badge"), "verdict": imported.headline},
            )
            return redirect("earners:imports")
    return render(
        request,
        "earners/imports.html",
        {"imported": selectors.imports_of(user), "error": error},
        status=400 if error else 200,
    )
