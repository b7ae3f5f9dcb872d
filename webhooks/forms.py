"""The console's form for a webhook endpoint."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from events.models import SUBSCRIBABLE, EventType
from issuers import selectors as issuer_selectors
from issuers.models import Institution, Issuer


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("Endpoint URL"),
        max_length=2000,
        assume_scheme="https",
        help_text=_(
            "Your server's address that receives the events, e.g. "
            "https://sis.example.edu/insignia/webhooks. Public addresses on port 443 or 80 only."
        ),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(value, EventType(value).label) for value in SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every event, including types added later."),
    )
    issuers = forms.ModelMultipleChoiceField(
        label=_("Issuers"),
        queryset=Issuer.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: events of every issuer of the institution."),
    )

    def __init__(self, *args: Any, institution: Institution, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelMultipleChoiceField[Issuer]", self.fields["issuers"])
        field.queryset = issuer_selectors.issuers_of(institution)
