"""Signing in and out, and password reset (accepting an invitation is in ``issuers.views``).

Sign-in goes through Django's ``LoginView``, whose form calls ``authenticate(request, …)``, so
django-axes counts and refuses guesses (``accounts.throttling``). Password reset answers the
same for every address, is limited per client and per address, and e-mails the address what
happened: a link for an account, or a note that there is none.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from axes.utils import reset as reset_sign_in_attempts
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext_lazy

from accounts import throttling
from common.mail import send_templated_mail
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
        email = normalize_email(form.cleaned_data["email"])
        retry = throttling.mail_limit(self.request, scope="reset", email=email)
        if retry is not None:
            return throttling.too_many(self.request, retry)
        if not any(True for _user in form.get_users(email)):
            # The page is the same as for an account; the e-mail says there is none.
            send_templated_mail(
                to=email,
                template="password_reset_unknown",
                context={
                    "email": email,
                    "signup_url": settings.INSIGNIA_BASE_URL + reverse("earners:signup"),
                    "reset_url": settings.INSIGNIA_BASE_URL + reverse("manage:password_reset"),
                },
                language=translation.get_language() or settings.LANGUAGE_CODE,
            )
            return HttpResponseRedirect(self.get_success_url())
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


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choosing a new password from the e-mailed link. The new password ends every session
    of the account (its session hash changes), and, since the link proves the mailbox, it
    also ends a sign-in cool-down for the address."""

    template_name = "manage/password_reset_confirm.html"
    success_url = reverse_lazy("manage:password_reset_complete")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:  # type: ignore[type-arg]
        response = super().form_valid(form)
        reset_sign_in_attempts(username=normalize_email(form.user.email))
        return response


password_reset_confirm = PasswordResetConfirmView.as_view()
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="manage/password_reset_complete.html"
)
