"""What a person types for two-step sign-in; ``accounts.otp`` checks the codes."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

_CODE_ATTRS = {
    "autocomplete": "one-time-code",
    "autofocus": True,
    "spellcheck": "false",
    "autocapitalize": "off",
}


class ConfirmForm(forms.Form):
    """The first code from the authenticator app, which confirms it."""

    code = forms.CharField(
        label=_("6-digit code from the app"),
        max_length=12,
        validators=[
            RegexValidator(r"^\s*[0-9]{3}\s?[0-9]{3}\s*$", _("Type the 6 digits the app shows."))
        ],
        widget=forms.TextInput(attrs={**_CODE_ATTRS, "inputmode": "numeric"}),
    )


class CodeForm(forms.Form):
    """A code from the app, or one of the person's recovery codes."""

    code = forms.CharField(
        label=_("Verification code"),
        max_length=24,
        help_text=_("The 6-digit code your authenticator app shows, or a recovery code."),
        widget=forms.TextInput(attrs=_CODE_ATTRS),
    )
