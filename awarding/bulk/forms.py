"""The bulk upload form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from badges.models import DuplicateHandling


class BulkUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel file"),
        help_text=gettext_lazy("UTF-8 or GBK CSV, or .xlsx; at most 10,000 rows."),
    )
    duplicates = forms.ChoiceField(
        label=gettext_lazy("Learners who already have this badge"),
        choices=DuplicateHandling.choices,
        initial=DuplicateHandling.SKIP,
        widget=forms.RadioSelect,
    )
    notify = forms.BooleanField(
        label=gettext_lazy("E-mail each learner a link to claim the badge"),
        required=False,
        initial=True,
    )
