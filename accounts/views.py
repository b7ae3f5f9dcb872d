"""Signing in and out, password reset, and accepting an invitation to an institution."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from issuers import services
from issuers.forms import AcceptInvitationForm


class SignInForm(AuthenticationForm):
    """Django's sign-in form with the e-mail address as the user name."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("That e-mail address and password do not match."),
    }

    def clean_username(self) -> str:
        return str(self.cleaned_data.get("username", "")).strip().lower()


login_view = auth_views.LoginView.as_view(
    template_name="manage/login.html",
    authentication_form=SignInForm,
    redirect_authenticated_user=True,
)
logout_view = auth_views.LogoutView.as_view()


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset flow; links use the configured public origin, never the Host header."""

    template_name = "manage/password_reset.html"
    email_template_name = "emails/password_reset.txt"
    html_email_template_name = "emails/password_reset.html"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("manage:password_reset_sent")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        form.save(
            domain_override=urlsplit(settings.INSIGNIA_BASE_URL).netloc,
            use_https=settings.INSIGNIA_BASE_URL.startswith("https://"),
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            html_email_template_name=self.html_email_template_name,
            request=self.request,
        )
        return HttpResponseRedirect(self.get_success_url())


password_reset = PasswordResetView.as_view()
password_reset_sent = auth_views.PasswordResetDoneView.as_view(
    template_name="manage/password_reset_sent.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="manage/password_reset_confirm.html",
    success_url=reverse_lazy("manage:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="manage/password_reset_complete.html"
)


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation; accept it as the signed-in invitee, or create the invitee's account."""
    invitation = services.find_invitation(token)
    if invitation is None:
        return render(request, "manage/invitation_invalid.html", status=404)
    existing = User.objects.filter(email=invitation.email).first()
    user = request.user if isinstance(request.user, User) else None
    form = AcceptInvitationForm(request.POST or None)
    error = ""
    if request.method == "POST":
        try:
            if user is not None:
                services.accept_invitation(token=token, user=user)
            elif existing is None and form.is_valid():
                with transaction.atomic():
                    new_user = User(email=invitation.email, name=form.cleaned_data["name"])
                    validate_password(form.cleaned_data["password"], new_user)
                    new_user.set_password(form.cleaned_data["password"])
                    new_user.save()
                    services.accept_invitation(token=token, user=new_user)
                login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                return render(
                    request,
                    "manage/invitation.html",
                    {"invitation": invitation, "existing": existing, "form": form},
                    status=400,
                )
        except ValidationError as failure:
            if existing is None and user is None:
                form.add_error("password", failure)
            else:
                error = " ".join(failure.messages)
        except PermissionDenied as failure:
            error = str(failure) or _("This invitation was sent to another e-mail address.")
        else:
            messages.success(
                request,
                _("Welcome to %(institution)s.") % {"institution": invitation.institution.name},
            )
            return redirect("manage:dashboard", institution=invitation.institution.slug)
    login_url = f"{reverse('manage:login')}?next={request.path}"
    return render(
        request,
        "manage/invitation.html",
        {
            "invitation": invitation,
            "existing": existing,
            "form": form,
            "error": error,
            "login_url": login_url,
        },
        status=400 if error or form.errors else 200,
    )
