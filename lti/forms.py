"""The console's LTI forms: a course platform registered by hand (with where an LMS
administrator finds each value in Moodle and Canvas), a registration link's name, and a staff
decision on a course award whose grade changed. What the platform's URLs may be is checked by
``lti.configuration``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from lti import selectors
from lti.models import Platform


def _formfield(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class PlatformForm(forms.ModelForm):  # type: ignore[type-arg]
    deployment_ids = forms.CharField(
        label=_("Deployment IDs"),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        error_messages={"required": _("Give at least one deployment ID.")},
        help_text=_(
            "One per line. Moodle: “Deployment ID” in the tool's configuration details. "
            "Canvas: the ID shown once the app is installed (the app's settings menu in "
            "Settings → Apps → “Deployment Id”)."
        ),
    )

    class Meta:
        model = Platform
        formfield_callback = _formfield  # the URLs without a scheme are https://
        fields = (
            "name",
            "issuer",
            "client_id",
            "deployment_ids",
            "auth_login_url",
            "auth_token_url",
            "auth_audience",
            "key_set_url",
            "enabled",
        )
        help_texts = {
            "name": _("What your staff call it, e.g. “Moodle” or “Canvas”."),
            "issuer": _(
                "Moodle: the site's address, e.g. https://moodle.example.edu (“Platform ID” "
                "in the tool's configuration details, under Site administration → Plugins → "
                "Activity modules → External tool → Manage tools). Canvas Cloud: "
                "https://canvas.instructure.com."
            ),
            "client_id": _(
                "Moodle: “Client ID” in the tool's configuration details. Canvas: the "
                "developer key's ID (Admin → Developer Keys, a number such as "
                "10000000000042)."
            ),
            "auth_login_url": _(
                "Moodle: <site>/mod/lti/auth.php. "
                "Canvas: https://sso.canvaslms.com/api/lti/authorize_redirect."
            ),
            "auth_token_url": _(
                "Moodle: <site>/mod/lti/token.php. "
                "Canvas: https://sso.canvaslms.com/login/oauth2/token."
            ),
            "auth_audience": _(
                "Leave empty for Moodle and Canvas. Only if the platform names an audience "
                "for its token endpoint."
            ),
            "key_set_url": _(
                "Moodle: <site>/mod/lti/certs.php. "
                "Canvas: https://sso.canvaslms.com/api/lti/security/jwks."
            ),
            "enabled": _(
                "A disabled platform cannot open Insignia, and its courses' grades are not checked."
            ),
        }
        widgets = {
            "client_id": forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
            "auth_audience": forms.TextInput(attrs={"spellcheck": "false"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.fields["deployment_ids"].initial = "\n".join(
                d.deployment_id for d in self.instance.deployments.all()
            )

    def clean_deployment_ids(self) -> list[str]:
        text = str(self.cleaned_data.get("deployment_ids") or "")
        found = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
        if not found:
            raise forms.ValidationError(_("Give at least one deployment ID."))
        return found

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        issuer = str(data.get("issuer") or "").strip().rstrip("/")
        client_id = str(data.get("client_id") or "").strip()
        if issuer and client_id:
            besides = None if self.instance._state.adding else self.instance.pk
            if selectors.is_registered(issuer, client_id, besides=besides):
                # On the field, so that the model's own unique check is skipped: its message
                # would not say that the other registration may be another institution's.
                self.add_error(
                    "client_id",
                    _(
                        "This platform and client ID are already registered (here or by "
                        "another institution)."
                    ),
                )
        return data


class InviteForm(forms.Form):
    name = forms.CharField(
        label=_("Platform name"),
        max_length=100,
        help_text=_("e.g. “Moodle” or “Canvas”: the registered platform gets this name."),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("keep", "keep"), ("revoke", "revoke")])
    reason = forms.CharField(label=_("Reason (optional)"), max_length=500, required=False)
