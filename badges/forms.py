"""Console forms for achievements and awards: they validate what staff type; the writes
happen in ``badges.services``."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from badges.models import AchievementType, AchievementVersion, Language, ResultType
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
        """The cleaned fields as ``badges.services`` takes them."""
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

    def chosen_issuer(self) -> Issuer:
        return self.issuers[self.cleaned_data["issuer"]]


EVIDENCE_ROWS = 3


class AwardForm(forms.Form):
    email = forms.EmailField(
        label=_("Learner's e-mail address"),
        help_text=_("Only a salted hash of it goes into the badge."),
    )
    name = forms.CharField(label=_("Learner's name"), max_length=200, required=False)
    language = forms.ChoiceField(label=_("Language of the badge"))
    narrative = forms.CharField(
        label=_("Narrative"),
        widget=forms.Textarea(attrs=TEXTAREA),
        required=False,
        help_text=_("How this learner met the criteria (optional)."),
    )
    valid_until = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty to use the micro-credential's validity period."),
    )
    credits_earned = forms.DecimalField(
        label=_("Credits earned"),
        required=False,
        min_value=0,
        decimal_places=2,
        max_digits=8,
    )

    def __init__(
        self,
        *args: Any,
        languages: list[str],
        credit_value: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["language"])
        field.choices = [(code, Language(code).label) for code in languages]
        if credit_value is None:
            del self.fields["credits_earned"]
        else:
            self.fields["credits_earned"].help_text = _(
                "Only for partial credit: leave empty when the learner earned all "
                "%(credits)s credits."
            ) % {"credits": f"{credit_value:g}"}
        for n in range(1, EVIDENCE_ROWS + 1):
            self.fields[f"evidence_url_{n}"] = forms.URLField(
                label=_("Evidence %(n)s: link") % {"n": n},
                required=False,
                assume_scheme="https",
                max_length=2000,
            )
            self.fields[f"evidence_narrative_{n}"] = forms.CharField(
                label=_("Evidence %(n)s: narrative") % {"n": n},
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
            )

    def evidence(self) -> list[tuple[str, str]]:
        return [
            (
                self.cleaned_data.get(f"evidence_url_{n}") or "",
                self.cleaned_data.get(f"evidence_narrative_{n}") or "",
            )
            for n in range(1, EVIDENCE_ROWS + 1)
        ]

    def expiry(self) -> datetime | None:
        day = self.cleaned_data.get("valid_until")
        return datetime.combine(day, time(23, 59, 59), tzinfo=UTC) if day else None

    def evidence_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"evidence_url_{n}"], self[f"evidence_narrative_{n}"])
            for n in range(1, EVIDENCE_ROWS + 1)
        ]


# --------------------------------------------------------------------------------------------
# Revocation, suspension and re-issue (issue #6)
# --------------------------------------------------------------------------------------------

MAX_REFERENCES_UPLOAD = 1024 * 1024


class StatusChangeForm(forms.Form):
    """Revoke, suspend or reinstate one award: a reason and whether to tell the learner."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on the badge page and to anyone who verifies the badge."),
    )
    notify_earner = forms.BooleanField(
        label=_("Tell the learner by e-mail"), required=False, initial=True
    )


class BulkRevokeForm(forms.Form):
    """Choose awards to revoke: selected ones, one micro-credential, a date range and/or a
    list of credential ids or e-mail addresses (typed or uploaded, one per line)."""

    achievement = forms.ChoiceField(label=_("Micro-credential"), required=False)
    awarded_from = forms.DateField(
        label=_("Awarded on or after"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    awarded_until = forms.DateField(
        label=_("Awarded on or before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    references = forms.CharField(
        label=_("Credential ids or e-mail addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: the credential's link, its id, or the learner's e-mail."),
    )
    upload = forms.FileField(
        label=_("Or upload a list"),
        required=False,
        help_text=_("A text or CSV file; the first column of each line is used."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on each badge page and to anyone who verifies the badges."),
    )
    notify_earner = forms.BooleanField(label=_("Tell the learners by e-mail"), required=False)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, achievements: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["achievement"])
        field.choices = [("", _("Any")), *achievements]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        lines = (cleaned.get("references") or "").splitlines()
        upload = cleaned.get("upload")
        if upload is not None:
            if upload.size > MAX_REFERENCES_UPLOAD:
                raise forms.ValidationError(_("The list is too large (1 MB at most)."))
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("Upload a UTF-8 text or CSV file.")) from None
            lines += text.splitlines()
        references = []
        for line in lines:
            first = line.split(",")[0].strip().strip('"')
            if first and first.lower() not in {"id", "credential", "email", "e-mail"}:
                references.append(first)
        cleaned["reference_list"] = references
        # Carry an uploaded list into the confirmation step.
        if isinstance(self.data, QueryDict):
            data = self.data.copy()
            data["references"] = "\n".join(references)
            self.data = data
        return cleaned

    def day_bounds(self) -> tuple[datetime | None, datetime | None]:
        start = self.cleaned_data.get("awarded_from")
        end = self.cleaned_data.get("awarded_until")
        return (
            datetime.combine(start, time.min, tzinfo=UTC) if start else None,
            datetime.combine(end, time.max, tzinfo=UTC) if end else None,
        )
