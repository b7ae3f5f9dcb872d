"""The console's forms: give an endorsement, ask for one, answer a request."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from endorsements.services import COMMENT_MAX
from issuers import selectors as issuer_selectors
from issuers.models import Institution, Issuer


def _endorser_field() -> forms.ModelChoiceField[Issuer]:
    return forms.ModelChoiceField(
        label=_("Endorse as"),
        queryset=Issuer.objects.none(),
        empty_label=None,
        help_text=_("The issuer whose key signs the endorsement."),
    )


def _comment_field() -> forms.CharField:
    return forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Why you vouch for it. Shown wherever the endorsement is shown."),
    )


class EndorseForm(forms.Form):
    """Endorse an issuer or achievement of this platform (``target``), or one elsewhere by
    its address (``url``)."""

    endorser = _endorser_field()
    target = forms.CharField(required=False, widget=forms.HiddenInput)
    url = forms.URLField(
        label=_("Or the address of an issuer or achievement elsewhere"),
        max_length=2000,
        required=False,
        assume_scheme="https",
        help_text=_(
            "The URL of an Open Badges 3.0 issuer profile or achievement on another platform."
        ),
    )
    comment = _comment_field()

    def __init__(self, *args: Any, institution: Institution, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[Issuer]", self.fields["endorser"])
        field.queryset = issuer_selectors.issuers_of(institution)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("target")) == bool(data.get("url")):
            raise forms.ValidationError(
                _("Choose one issuer or micro-credential from the search, or give one address.")
            )
        return data


class RequestForm(forms.Form):
    """Ask another institution to endorse one of ours."""

    recipient = forms.ModelChoiceField(
        label=_("Institution to ask"), queryset=Institution.objects.none()
    )
    target = forms.ChoiceField(label=_("What they would endorse"), choices=())
    message = forms.CharField(
        label=pgettext_lazy("endorsement", "Message"),
        max_length=COMMENT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("They see it with the request, and may use it as their comment."),
    )

    def __init__(
        self, *args: Any, institution: Institution, targets: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[Institution]", self.fields["recipient"])
        field.queryset = Institution.objects.exclude(pk=institution.pk).order_by("name_en")
        cast("forms.ChoiceField", self.fields["target"]).choices = targets


class AcceptForm(forms.Form):
    """Answer a request with an endorsement; the comment starts as the request's message."""

    endorser = _endorser_field()
    comment = _comment_field()

    def __init__(self, *args: Any, institution: Institution, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[Issuer]", self.fields["endorser"])
        field.queryset = issuer_selectors.issuers_of(institution)
