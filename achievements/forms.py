"""Console forms for micro-credentials: they validate what staff type; the writes happen in
``achievements.services``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from badges.models import AchievementType, AchievementVersion, ResultType
from issuers.forms import BadgeImageField
from issuers.models import Issuer, slug_validator

TEXTAREA = {"rows": 3}
RESULTS_HELP = format_lazy(
    "{} {}",
    _(
        "One result per line: English name | Chinese name | type | allowed values, separated by "
        "commas. Types:"
    ),
    ", ".join(ResultType.values),
)


def _parse_results(text: str) -> list[dict[str, Any]]:
    results = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        parts += [""] * (4 - len(parts))
        name_en, name_zh, result_type, values = parts[:4]
        if not (name_en or name_zh) or result_type not in ResultType.values:
            raise forms.ValidationError(
                _("Line %(n)s: give a name and one of the result types."), params={"n": number}
            )
        results.append(
            {
                "name_en": name_en,
                "name_zh": name_zh,
                "result_type": result_type,
                "allowed_values": [v.strip() for v in values.split(",") if v.strip()],
            }
        )
    return results


def _format_results(results: list[dict[str, Any]]) -> str:
    return "\n".join(
        " | ".join(
            [
                str(item.get("name_en", "")),
                str(item.get("name_zh", "")),
                str(item.get("result_type", "")),
                ", ".join(item.get("allowed_values", [])),
            ]
        )
        for item in results
    )


class AchievementForm(forms.Form):
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=200, required=False)
    description_en = forms.CharField(
        label=_("Description (English)"), widget=forms.Textarea(attrs=TEXTAREA), required=False
    )
    description_zh = forms.CharField(
        label=_("Description (Chinese)"), widget=forms.Textarea(attrs=TEXTAREA), required=False
    )
    criteria_en = forms.CharField(
        label=_("Criteria (English)"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text=_("What a learner must do to earn it. Markdown: **bold**, lists, links."),
    )
    criteria_zh = forms.CharField(
        label=_("Criteria (Chinese)"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    evidence_required_en = forms.CharField(
        label=_("Evidence required (English)"),
        widget=forms.Textarea(attrs=TEXTAREA),
        required=False,
    )
    evidence_required_zh = forms.CharField(
        label=_("Evidence required (Chinese)"),
        widget=forms.Textarea(attrs=TEXTAREA),
        required=False,
    )
    achievement_type = forms.ChoiceField(
        label=_("Type"), choices=AchievementType.choices, initial=AchievementType.MICRO_CREDENTIAL
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )
    validity_days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        required=False,
        help_text=_("Leave empty if it never expires."),
    )
    result_descriptions = forms.CharField(
        label=_("Results"),
        widget=forms.Textarea(attrs=TEXTAREA),
        required=False,
        help_text=RESULTS_HELP,
    )
    image = BadgeImageField(label=_("Badge image"))
    change_note = forms.CharField(
        label=_("What changed"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Shown on the public page next to this version."),
    )

    def clean_tags(self) -> list[str]:
        text: str = self.cleaned_data.get("tags") or ""
        tags = [tag.strip() for tag in text.replace("，", ",").split(",")]
        return list(dict.fromkeys(tag for tag in tags if tag))

    def clean_result_descriptions(self) -> list[dict[str, Any]]:
        return _parse_results(self.cleaned_data.get("result_descriptions") or "")

    def content(self) -> dict[str, Any]:
        """The cleaned fields as ``achievements.services`` takes them."""
        return {k: v for k, v in self.cleaned_data.items() if k not in {"image", "issuer", "slug"}}

    @classmethod
    def for_version(cls, version: AchievementVersion) -> AchievementForm:
        initial = {name: getattr(version, name) for name in cls.base_fields if name != "image"}
        initial["tags"] = ", ".join(version.tags)
        initial["result_descriptions"] = _format_results(version.result_descriptions)
        if version.is_published:
            initial["change_note"] = ""
        return cls(initial=initial)


class NewAchievementForm(AchievementForm):
    issuer = forms.ChoiceField(label=_("Issuer"))
    slug = forms.CharField(
        label=_("Short name"),
        max_length=50,
        validators=[slug_validator],
        help_text=_("Used in the console and command line; unique for the issuer."),
    )

    field_order = ["issuer", "slug"]

    def __init__(self, *args: Any, issuers: list[Issuer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.issuers = {issuer.slug: issuer for issuer in issuers}
        field = cast(forms.ChoiceField, self.fields["issuer"])
        field.choices = [(issuer.slug, issuer.name) for issuer in issuers]
        del self.fields["change_note"]  # a first version has nothing to compare with

    def chosen_issuer(self) -> Issuer:
        return self.issuers[self.cleaned_data["issuer"]]
