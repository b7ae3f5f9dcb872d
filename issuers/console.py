"""The staff console's plumbing, shared by every app's console views: the ``console()``
decorator (the institution of the URL for a signed-in member, 404 for anyone else, and
two-step sign-in where the person has it or the institution requires it), the signed-in user,
the page context every console template needs, uploads and form errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts import otp
from accounts.models import User
from issuers import selectors
from issuers.models import Institution, Role
from issuers.permissions import has_role, require_role, role_in

P = ParamSpec("P")
ConsoleView = Callable[Concatenate[HttpRequest, Institution, P], HttpResponse]


def console(
    minimum: Role | None = None,
) -> Callable[[ConsoleView[P]], Callable[Concatenate[HttpRequest, str, P], HttpResponse]]:
    """Resolve ``<institution>`` for a signed-in member (404 for anyone else), ask for the
    two-step code (a person with an authenticator whose session has not given one) or send to
    its set-up (the institution requires it, the person has none), require ``minimum`` role in
    it (403), then call the view with the institution."""

    def decorator(
        view: ConsoleView[P],
    ) -> Callable[Concatenate[HttpRequest, str, P], HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(
            request: HttpRequest, institution: str, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponse:
            user = request_user(request)
            found = _institution_for(user, institution)
            step = _two_step_page(request, found)
            if step is not None:
                return HttpResponseRedirect(
                    f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}"
                )
            if minimum is not None:
                require_role(user, found, minimum)
            return view(request, found, *args, **kwargs)

        return wrapper  # type: ignore[return-value]  # login_required erases the signature

    return decorator


def _institution_for(user: User, slug: str) -> Institution:
    """``selectors.institution_for`` with whether ``user`` has an authenticator, read in the
    same query (console pages keep their query budgets)."""
    try:
        return (
            selectors.institutions_for(user).annotate(staff_totp=otp.has_totp(user)).get(slug=slug)
        )
    except Institution.DoesNotExist:
        raise Http404 from None


def _two_step_page(request: HttpRequest, institution: Institution) -> str | None:
    """The two-step page this request must pass first, if any."""
    return _step(request, institution, bool(getattr(institution, "staff_totp", False)))


def _step(request: HttpRequest, institution: Institution, has_totp: bool) -> str | None:
    if has_totp and not otp.is_verified(request):
        return "manage:otp_verify"
    if institution.require_staff_totp and not has_totp:
        return "manage:otp_enrol"
    return None


def personal(view: Callable[P, HttpResponse]) -> Callable[P, HttpResponse]:
    """A signed-in person's own page outside any institution (their API tokens, the apps
    they approved, the console home): sign-in first, and the two-step code first when the
    person has an authenticator, as on every console page."""

    @login_required
    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        request = args[0]
        assert isinstance(request, HttpRequest)  # noqa: S101 - a view's first argument
        if otp.needs_code(request):
            return HttpResponseRedirect(
                f"{reverse('manage:otp_verify')}?{urlencode({'next': request.get_full_path()})}"
            )
        return view(*args, **kwargs)

    return wrapper


def two_step_page(request: HttpRequest, institution: Institution) -> str | None:
    """The two-step page ``request`` must pass before acting in ``institution``, if any (for
    pages outside ``console()`` that act there, such as an app's consent page)."""
    return _step(request, institution, otp.has_code_device(request_user(request)))


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
