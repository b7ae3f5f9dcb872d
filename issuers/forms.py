"""Console forms: validation of what staff type; the writes happen in ``services``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from issuers.models import (
    Institution,
    Issuer,
    Role,
    Securing,
    badge_text,
    colour_validator,
    linkedin_id_validator,
    slug_validator,
)


def _limits_text(message: str | Promise) -> str:
    """``message`` with the upload limits filled in, in the language of the request."""
    return str(message) % {
        "kb": settings.INSIGNIA_MAX_IMAGE_BYTES // 1024,
        "px": settings.INSIGNIA_MAX_IMAGE_PIXELS,
    }


# Lazy: the fields are built when the forms module is imported, before any request has chosen a
# language, so the help text is translated (and the limits read) only when a page shows it.
_limits = lazy(_limits_text, str)


class ImageField(forms.FileField):
    """A PNG or JPEG upload; the content is checked by ``issuers.images.check_image``."""

    widget = forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", _limits(_("PNG or JPEG, at most %(kb)s KB and %(px)s pixels per side."))
        )
        super().__init__(**kwargs)


class BadgeImageField(ImageField):
    """A badge image: PNG or SVG (the formats a credential is baked into), checked with
    ``check_image(badge=True)``; an SVG is sanitized before it is stored."""

    widget = forms.ClearableFileInput(attrs={"accept": "image/png,image/svg+xml"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text", _limits(_("PNG or SVG, at most %(kb)s KB and %(px)s pixels per side."))
        )
        super().__init__(**kwargs)


class InstitutionSettingsForm(forms.Form):
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, validators=badge_text)
    name_zh = forms.CharField(
        label=_("Name (Chinese)"), max_length=200, required=False, validators=badge_text
    )
    country = forms.ChoiceField(
        label=_("Country"), choices=lambda: [("", "—"), *countries], required=False
    )
    website = forms.URLField(
        label=_("Website"), required=False, assume_scheme="https", validators=badge_text
    )
    brand_colour = forms.CharField(
        label=_("Brand colour"),
        max_length=7,
        validators=[colour_validator],
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    logo = ImageField(label=_("Logo"))
    require_staff_totp = forms.BooleanField(
        label=_("Require two-step sign-in for staff"),
        required=False,
        help_text=_(
            "Every member, you included, then sets up an authenticator app before opening this "
            "institution's console pages, and gives its 6-digit code after their password."
        ),
    )

    @classmethod
    def for_institution(cls, institution: Institution) -> InstitutionSettingsForm:
        return cls(
            initial={
                "name_en": institution.name_en,
                "name_zh": institution.name_zh,
                "country": institution.country.code if institution.country else "",
                "website": institution.website,
                "brand_colour": institution.brand_colour,
                "require_staff_totp": institution.require_staff_totp,
            }
        )


class IssuerForm(forms.Form):
    """What an issuer's credentials say about it: every text refuses what a badge cannot carry."""

    name_en = forms.CharField(label=_("Name (English)"), max_length=200, validators=badge_text)
    name_zh = forms.CharField(
        label=_("Name (Chinese)"), max_length=200, required=False, validators=badge_text
    )
    description_en = forms.CharField(
        label=_("Description (English)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        validators=badge_text,
    )
    description_zh = forms.CharField(
        label=_("Description (Chinese)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        validators=badge_text,
    )
    url = forms.URLField(label=_("Web page"), assume_scheme="https", validators=badge_text)
    email = forms.EmailField(label=_("Contact e-mail"), validators=badge_text)
    image = ImageField(label=_("Image"))
    linkedin_organization_id = forms.CharField(
        label=_("LinkedIn organisation ID"),
        max_length=20,
        required=False,
        validators=[linkedin_id_validator],
        help_text=_(
            "The number in your LinkedIn page's admin URL. With it, LinkedIn shows your logo "
            "on badges that learners add to their profiles."
        ),
    )

    securing = forms.ChoiceField(
        label=_("Credential format"),
        choices=Securing.choices,
        initial=Securing.DATA_INTEGRITY,
        widget=forms.RadioSelect,
        # Left out of a post (an older form, a script): the issuer keeps its choice.
        required=False,
        help_text=_(
            "What the badge page offers to download, and what a wallet that accepts both gets. "
            "Every credential stays available in both formats, at its link ending in .json "
            "or .jwt, and both verify."
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("securing"):
            cleaned.pop("securing", None)
        return cleaned

    @classmethod
    def for_issuer(cls, issuer: Issuer) -> IssuerForm:
        return cls(
            initial={name: getattr(issuer, name) for name in cls.base_fields if name != "image"}
        )


class NewIssuerForm(IssuerForm):
    slug = forms.CharField(
        label=_("Short name"),
        max_length=50,
        validators=[slug_validator],
        help_text=_("Part of the issuer's permanent identifier; it cannot be changed later."),
    )

    field_order = ["slug"]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.AWARDER)
    issuer = forms.ChoiceField(label=_("Scope"), required=False)

    def __init__(self, *args: Any, issuers: list[Issuer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.issuers = {issuer.slug: issuer for issuer in issuers}
        field = cast(forms.ChoiceField, self.fields["issuer"])
        field.choices = [("", _("The whole institution"))] + [
            (issuer.slug, issuer.name) for issuer in issuers
        ]

    def chosen_issuer(self) -> Issuer | None:
        slug = self.cleaned_data.get("issuer") or ""
        return self.issuers.get(slug)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    """Shown to an invited person who has no account yet."""

    name = forms.CharField(label=_("Your name"), max_length=150)
    password = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        min_length=8,
    )
