"""Signing in and out, and password reset (accepting an invitation is in ``issuers.views``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy

from openbadges.ob3 import normalize_email


class SignInForm(AuthenticationForm):
    """Django's sign-in form with the e-mail address as the user name."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("That e-mail address and password do not match."),
    }

    def clean_username(self) -> str:
        return normalize_email(str(self.cleaned_data.get("username", "")))


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
