"""The form of the API tokens page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from badges.tokens.scopes import DEFAULT_SCOPES, TOKEN_SCOPES


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Which system will use it, e.g. “Moodle” or “Student records”."),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("What it may do"),
        choices=list(TOKEN_SCOPES.items()),
        initial=list(DEFAULT_SCOPES),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one scope.")},
        help_text=gettext_lazy(
            "It works for this issuer only. Choose the least it needs: managing webhooks is an "
            "owner's power."
        ),
    )
