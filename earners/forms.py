"""Forms of the learner's pages (validation only; writes go through ``earners.services``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from earners.models import Visibility


class SignUpForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail address"))
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class AddEmailForm(forms.Form):
    email = forms.EmailField(label=_("Another e-mail address"))


class PreferenceForm(forms.Form):
    visibility = forms.ChoiceField(
        label=_("Who can see this badge"), choices=Visibility.choices, widget=forms.RadioSelect
    )
    show_name = forms.BooleanField(label=_("Show my name on the badge page"), required=False)
    include_evidence = forms.BooleanField(
        label=_("Show the evidence on the badge page"), required=False
    )


class ProfileForm(forms.Form):
    public = forms.BooleanField(label=_("Publish a profile page"), required=False)
    display_name = forms.CharField(label=_("Name on the profile"), max_length=150, required=False)


class CollectionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    expires_on = forms.DateField(
        label=_("Link expires on (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class OrganisationForm(forms.Form):
    organisation = forms.CharField(
        label=_("Your organisation (optional, shown to the badge holder)"),
        max_length=120,
        required=False,
    )


class ClaimForm(forms.Form):
    """The claim page's choice (its radios are in ``badges/claim.html``)."""

    show_name = forms.TypedChoiceField(
        choices=[("yes", _("Show my name")), ("no", _("Keep my name hidden"))],
        coerce=lambda value: value == "yes",
        error_messages={"required": _("Choose whether the badge page shows your name.")},
    )
    then = forms.ChoiceField(choices=[("", ""), ("signup", "signup")], required=False)
