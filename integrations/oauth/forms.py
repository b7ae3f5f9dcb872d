"""The forms of the API clients page and the personal tokens page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from oauth2_provider.models import Application
from oauth2_provider.settings import oauth2_settings

from integrations.oauth import scopes as scope_names
from issuers.models import Issuer

SYSTEM = Application.GRANT_CLIENT_CREDENTIALS
PEOPLE = Application.GRANT_AUTHORIZATION_CODE
SIGN_IN_CHOICES = [
    (
        SYSTEM,
        gettext_lazy(
            "System to system: a service signs in with its own secret (OAuth client credentials)"
        ),
    ),
    (
        PEOPLE,
        gettext_lazy(
            "An app acting for a signed-in colleague, who approves it first "
            "(authorisation code with PKCE)"
        ),
    ),
]
MAX_REDIRECT_URIS = 10


def _issuer_label(issuer: Issuer) -> str:
    return f"{issuer.name} ({issuer.slug})"


def redirect_uris_of(text: str) -> list[str]:
    """The redirect URIs typed one per line (or separated by spaces): each an absolute URL
    with an allowed scheme (https; http too outside production) and no fragment (RFC 6749
    §3.1.2)."""
    found = [line.strip() for line in text.split() if line.strip()]
    if len(found) > MAX_REDIRECT_URIS:
        raise ValidationError(_("At most %(count)d redirect URIs.") % {"count": MAX_REDIRECT_URIS})
    schemes = list(oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES)
    check = URLValidator(schemes=schemes)
    for uri in found:
        try:
            check(uri)
        except ValidationError:
            raise ValidationError(
                _("“%(uri)s” is not a full web address (it must start with %(schemes)s).")
                % {"uri": uri, "schemes": ", ".join(f"{s}://" for s in schemes)}
            ) from None
        if urlsplit(uri).fragment or "#" in uri:
            raise ValidationError(
                _("“%(uri)s” has a # part; a redirect URI may not have one.") % {"uri": uri}
            )
    return list(dict.fromkeys(found))


class ClientForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy(
            "Which system or app it is, e.g. “Student records” or “Moodle”. People who "
            "approve an app see this name."
        ),
    )
    grant_type = forms.ChoiceField(
        label=gettext_lazy("How it signs in"),
        choices=SIGN_IN_CHOICES,
        initial=SYSTEM,
        widget=forms.RadioSelect,
    )
    redirect_uris = forms.CharField(
        label=gettext_lazy("Redirect URIs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "For an app acting for colleagues only: where Insignia sends them back after they "
            "approve it, one address per line, exactly as the app will send it."
        ),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("What it may do"),
        choices=list(scope_names.INSTITUTION_SCOPES.items()),
        initial=[scope_names.AWARDS_READ, scope_names.AWARDS_WRITE],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one scope.")},
        help_text=gettext_lazy(
            "The most any of its tokens may carry. An app acting for a colleague can never do "
            "more than that colleague's role allows."
        ),
    )
    issuers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Limit to these issuers"),
        queryset=Issuer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Tick none to let it reach every issuer of the institution."),
    )

    def __init__(self, *args: Any, issuers: QuerySet[Issuer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["issuers"]
        if not isinstance(field, forms.ModelMultipleChoiceField):  # pragma: no cover
            raise TypeError(field)
        field.queryset = issuers
        field.label_from_instance = _issuer_label  # type: ignore[method-assign,assignment]

    def clean_redirect_uris(self) -> list[str]:
        return redirect_uris_of(str(self.cleaned_data.get("redirect_uris") or ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("grant_type") == PEOPLE:
            if "redirect_uris" in data and not data["redirect_uris"]:
                self.add_error(
                    "redirect_uris",
                    _("An app acting for colleagues needs at least one redirect URI."),
                )
        else:
            data["redirect_uris"] = []  # a system signs in without a browser
        return data


class StaffTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What you will use it for, e.g. “Grading script”."),
    )
