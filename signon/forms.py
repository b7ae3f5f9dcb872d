"""The owner's campus sign-on forms: what they type is checked here; the identity provider's
metadata or discovery document is fetched and checked by ``signon.configuration``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from issuers.models import Role
from signon.models import IdentityProvider
from signon.services import MAPPABLE_ROLES

#: The largest metadata file an owner may upload (eduGAIN's aggregate is far larger, but one
#: identity provider's metadata is a few kilobytes).
MAX_METADATA_UPLOAD = 1024 * 1024

_MAPPING_FIELDS = (
    "attr_email",
    "attr_name",
    "attr_principal",
    "attr_student_id",
    "attr_affiliation",
    "attr_groups",
)
_COMMON_FIELDS = ("label", "enabled", "allow_staff", "allow_learners")


def parse_role_rules(text: str) -> list[dict[str, str]]:
    """``staff: awarder`` lines → ``[{"value": "staff", "role": "awarder"}]``; refuses an
    unknown role, the owner role, and a line without a colon."""
    rules: list[dict[str, str]] = []
    names = {str(Role(role).label).lower(): role for role in MAPPABLE_ROLES}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        value, colon, role = line.rpartition(":")
        value, role = value.strip(), role.strip().lower()
        if not colon or not value or not role:
            raise ValidationError(
                _("Line %(n)s: write the value, a colon and the role, e.g. “staff: awarder”."),
                params={"n": number},
            )
        if role == Role.OWNER or role == str(Role.OWNER.label).lower():
            raise ValidationError(
                _("Line %(n)s: campus sign-on never makes anyone an owner."), params={"n": number}
            )
        role = names.get(role, role)
        if role not in MAPPABLE_ROLES:
            raise ValidationError(
                _("Line %(n)s: “%(role)s” is not a role (editor, awarder or viewer)."),
                params={"n": number, "role": role},
            )
        rules.append({"value": value, "role": role})
    return rules


def format_role_rules(rules: list[dict[str, str]]) -> str:
    return "\n".join(f"{rule['value']}: {rule['role']}" for rule in rules)


class _ProviderForm(forms.ModelForm):  # type: ignore[type-arg]
    role_rules_text = forms.CharField(
        label=_("Staff roles"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "staff: awarder\nfaculty: editor"}),
        help_text=_(
            "One rule per line: an affiliation or group value, a colon, and the role it gives "
            "(editor, awarder or viewer). People matching no rule sign in as learners. No rule "
            "ever makes an owner, and the role of an existing member is left as it is."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["role_rules_text"].initial = format_role_rules(self.instance.role_rules)
        for name in _MAPPING_FIELDS:
            self.fields[name].required = False

    def clean_role_rules_text(self) -> list[dict[str, str]]:
        return parse_role_rules(self.cleaned_data.get("role_rules_text", ""))


class SamlProviderForm(_ProviderForm):
    saml_metadata_url = forms.URLField(
        label=_("Metadata URL"),
        required=False,
        max_length=2000,
        assume_scheme="https",
        help_text=_(
            "Where the identity provider publishes its metadata; it is read again every day."
        ),
    )
    metadata_file = forms.FileField(
        label=_("Metadata file"),
        required=False,
        help_text=_("The identity provider's SAML metadata (XML), if it has no URL."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/samlmetadata+xml"}),
    )

    class Meta:
        model = IdentityProvider
        fields = (
            *_COMMON_FIELDS,
            "saml_metadata_url",
            "saml_allow_idp_initiated",
            *_MAPPING_FIELDS,
        )

    def clean_metadata_file(self) -> str:
        upload = self.cleaned_data.get("metadata_file")
        if not upload:
            return ""
        if upload.size > MAX_METADATA_UPLOAD:
            raise ValidationError(_("The metadata file is larger than 1 MB."))
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise ValidationError(_("The metadata file is not UTF-8 text.")) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            not data.get("saml_metadata_url")
            and not data.get("metadata_file")
            and not self.instance.saml_metadata_xml
        ):
            raise ValidationError(_("Give the metadata URL or upload the metadata file."))
        return data


class OidcProviderForm(_ProviderForm):
    oidc_issuer = forms.URLField(
        label=_("Issuer URL"),
        max_length=2000,
        assume_scheme="https",
        help_text=_(
            "The provider's issuer, e.g. https://login.microsoftonline.com/<tenant>/v2.0; "
            "its discovery document is read from there."
        ),
    )

    class Meta:
        model = IdentityProvider
        fields = (
            *_COMMON_FIELDS,
            "oidc_issuer",
            "oidc_client_id",
            "oidc_client_secret",
            "oidc_scopes",
            *_MAPPING_FIELDS,
        )
        widgets = {"oidc_client_secret": forms.PasswordInput(render_value=False)}
        help_texts = {
            "oidc_client_secret": _("Leave empty to keep the secret already saved."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["oidc_client_id"].required = True
        self._saved_secret = self.instance.oidc_client_secret if self.instance.pk else ""

    def clean_oidc_client_secret(self) -> str:
        secret = str(self.cleaned_data.get("oidc_client_secret") or "")
        if not secret and not self._saved_secret:
            raise ValidationError(_("Give the client secret the provider issued."))
        return secret or self._saved_secret

    def clean_oidc_scopes(self) -> str:
        scopes = str(self.cleaned_data.get("oidc_scopes") or "").split()
        if "openid" not in scopes:
            scopes.insert(0, "openid")
        return " ".join(dict.fromkeys(scopes))
