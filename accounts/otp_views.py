"""Two-step sign-in pages under ``/manage/account/two-step/``: a person's own settings, setting
up an authenticator app, the code asked after the password, new recovery codes, turning it off;
and the admin site that asks for the code too (``TwoStepAdminSite``).

Pages that show a key or recovery codes are never cached.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import otp
from accounts.models import User
from accounts.otp_forms import CodeForm, ConfirmForm


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _next(request: HttpRequest) -> str:
    """Where to go after a right code: the page that asked for it, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def with_next(url: str, target: str) -> str:
    return f"{url}?{urlencode({'next': target})}" if target else url


def _error(form: Any, error: ValidationError) -> None:
    form.add_error("code", error.messages)


@login_required
def otp_settings(request: HttpRequest) -> HttpResponse:
    """Whether two-step sign-in is on, recovery codes left, and the ways to change it."""
    user = _user(request)
    return render(
        request,
        "accounts/otp_settings.html",
        {
            "device": otp.totp_device(user),
            "codes_left": otp.recovery_codes_left(user),
            "verified": otp.is_verified(request),
        },
    )


@never_cache
@login_required
def otp_enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator: start (POST), scan the QR code or type the key, confirm with
    the first code; the recovery codes are shown once, on the answer to that code."""
    user = _user(request)
    target = _next(request)
    if otp.totp_device(user) is not None:
        messages.info(request, _("Two-step sign-in is already on for your account."))
        return redirect(target or reverse("manage:otp_settings"))
    form = ConfirmForm()
    if request.method == "POST" and "start" in request.POST:
        otp.start(user=user)
        return redirect(with_next(reverse("manage:otp_enrol"), target))
    device = otp.pending_device(user)
    if request.method == "POST" and device is not None:
        form = ConfirmForm(request.POST)
        if form.is_valid():
            try:
                codes = otp.confirm(request, user=user, code=form.cleaned_data["code"])
            except ValidationError as error:
                _error(form, error)
            else:
                return _codes_page(request, codes, target, first=True)
    context: dict[str, Any] = {"form": form, "device": device, "next": target}
    if device is not None:
        uri = otp.provisioning_uri(device, user.email)
        context.update(qr=otp.qr_svg(uri), secret=otp.secret_text(device), uri=uri)
    status = 400 if form.errors else 200
    return render(request, "accounts/otp_enrol.html", context, status=status)


@never_cache
@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The code asked after the password, before any console page."""
    user = _user(request)
    target = _next(request)
    if otp.totp_device(user) is None or otp.is_verified(request):
        return redirect(target or reverse("manage:home"))
    form = CodeForm()
    if request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                otp.verify(request, user=user, code=form.cleaned_data["code"])
            except ValidationError as error:
                _error(form, error)
            else:
                return redirect(target or reverse("manage:home"))
    status = 400 if form.errors else 200
    return render(
        request, "accounts/otp_verify.html", {"form": form, "next": target}, status=status
    )


@never_cache
@require_POST
@login_required
def otp_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Ten new recovery codes (the old ones stop working), from a verified session only."""
    user = _user(request)
    if otp.totp_device(user) is None:
        return redirect("manage:otp_settings")
    if not otp.is_verified(request):
        return redirect(with_next(reverse("manage:otp_verify"), reverse("manage:otp_settings")))
    return _codes_page(request, otp.new_recovery_codes(user=user), "", first=False)


@never_cache
@login_required
def otp_remove(request: HttpRequest) -> HttpResponse:
    """Turn two-step sign-in off, after a current code (GET asks for it)."""
    user = _user(request)
    if otp.totp_device(user) is None:
        return redirect("manage:otp_settings")
    form = CodeForm()
    if request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                otp.remove(user=user, code=form.cleaned_data["code"])
            except ValidationError as error:
                _error(form, error)
            else:
                messages.success(request, _("Two-step sign-in is off."))
                return redirect("manage:otp_settings")
    status = 400 if form.errors else 200
    return render(request, "accounts/otp_remove.html", {"form": form}, status=status)


def _codes_page(
    request: HttpRequest, codes: list[str], target: str, *, first: bool
) -> HttpResponse:
    return render(
        request,
        "accounts/otp_recovery_codes.html",
        {"codes": codes, "next": target or reverse("manage:otp_settings"), "first": first},
    )


class TwoStepAdminSite(AdminSite):
    """The operators' admin: an operator with an authenticator gives its code first (on the
    console's two-step page, which sends them back). Installed as the class of
    ``django.contrib.admin.site`` by ``insignia.urls``."""

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not otp.needs_code(request)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        user = request.user
        if isinstance(user, User) and user.is_active and user.is_staff and otp.needs_code(request):
            target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
            return HttpResponseRedirect(with_next(reverse("manage:otp_verify"), target))
        return super().login(request, extra_context)
