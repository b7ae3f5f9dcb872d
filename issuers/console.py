"""The staff console's plumbing, shared by every app's console views: the ``console()``
decorator (the institution of the URL for a signed-in member, 404 for anyone else), the
signed-in user, the page context every console template needs, uploads and form errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse

from accounts.models import User
from issuers import selectors
from issuers.models import Institution, Role
from issuers.permissions import has_role, require_role, role_in

P = ParamSpec("P")
ConsoleView = Callable[Concatenate[HttpRequest, Institution, P], HttpResponse]


def console(
    minimum: Role | None = None,
) -> Callable[[ConsoleView[P]], Callable[Concatenate[HttpRequest, str, P], HttpResponse]]:
    """Resolve ``<institution>`` for a signed-in member (404 for anyone else) and require
    ``minimum`` role in it (403), then call the view with the institution."""

    def decorator(
        view: ConsoleView[P],
    ) -> Callable[Concatenate[HttpRequest, str, P], HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(
            request: HttpRequest, institution: str, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponse:
            user = request_user(request)
            found = selectors.institution_for(user, institution)
            if minimum is not None:
                require_role(user, found, minimum)
            return view(request, found, *args, **kwargs)

        return wrapper  # type: ignore[return-value]  # login_required erases the signature

    return decorator


def request_user(request: HttpRequest) -> User:
    """The signed-in user (the console signs in first; this narrows the type)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def uploaded(request: HttpRequest, name: str) -> bytes | None:
    """The bytes of the uploaded file ``name``, or None when none was sent."""
    upload = request.FILES.get(name)
    if not isinstance(upload, UploadedFile):
        return None
    return bytes(upload.read())


def apply_errors(form: Any, error: ValidationError) -> None:
    """Show a service's ``ValidationError`` on ``form``: per field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def console_context(request: HttpRequest, institution: Institution, **extra: Any) -> dict[str, Any]:
    """What every console page shows: the institution and the user's role in it."""
    user = request_user(request)
    return {
        "institution": institution,
        "my_role": role_in(user, institution),
        "is_owner": has_role(user, institution, Role.OWNER),
        **extra,
    }
