"""The form of the API tokens page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Which system will use it, e.g. “Moodle” or “Student records”."),
    )
