"""Console forms of equivalence statements: a statement as staff write it (the service
checks the rules) and the reason for withdrawing one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from frameworks.equivalence.services import StatementData
from frameworks.models import EquivalenceStatement, FrameworkLevel
from frameworks.pathways.trees import achievement_name


class EquivalenceForm(forms.ModelForm[EquivalenceStatement]):
    """An equivalence statement as staff write it; the service checks the rules."""

    link = forms.URLField(
        label=_("Link to a description"),
        required=False,
        max_length=2048,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://…"}),
    )

    class Meta:
        model = EquivalenceStatement
        fields = (
            "provider_name",
            "title",
            "issuer_id",
            "achievement_id",
            "link",
            "authority",
            "local_achievement",
            "credits",
            "credit_system",
            "level",
            "rationale",
            "valid_from",
            "valid_until",
        )
        widgets = {
            "issuer_id": forms.TextInput(attrs={"placeholder": "https://… / did:web:…"}),
            "achievement_id": forms.TextInput(attrs={"placeholder": "https://…"}),
            "rationale": forms.Textarea(attrs={"rows": 4}),
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "issuer_id": _(
                "As written in the provider's badges (OB 3.0 issuer id, OB 2.0 issuer URL)."
            ),
            "achievement_id": _(
                "As written in the provider's badges (OB 3.0 achievement id, OB 2.0 BadgeClass "
                "URL). A learner's badge matches by this id, or by issuer id and title."
            ),
            "authority": _("For example NZQA, when you record a statement it issued."),
            "local_achievement": _("Learners holding the external credential are exempt from it."),
            "credits": _("Credits recognised at the level below."),
        }

    def __init__(self, *args: Any, modules: Any, levels: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (("local_achievement", modules), ("level", levels)):
            field = self.fields[name]
            if not isinstance(field, forms.ModelChoiceField):  # pragma: no cover
                raise TypeError(field)
            field.queryset = queryset
        level = self.fields["level"]
        if isinstance(level, forms.ModelChoiceField):
            level.label_from_instance = _level_label  # type: ignore[method-assign,assignment]
        local = self.fields["local_achievement"]
        if isinstance(local, forms.ModelChoiceField):
            local.label_from_instance = achievement_name  # type: ignore[method-assign,assignment]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            # Reported on the field here, so the model's date constraint is not also
            # reported as a form-wide error.
            self.add_error("valid_until", _("The statement cannot end before it starts."))
        return data

    def data_for_service(self) -> StatementData:
        data = self.cleaned_data
        return StatementData(
            provider_name=data["provider_name"],
            title=data["title"],
            rationale=data["rationale"],
            valid_from=data["valid_from"],
            valid_until=data.get("valid_until"),
            issuer_id=data.get("issuer_id") or "",
            achievement_id=data.get("achievement_id") or "",
            link=data.get("link") or "",
            authority=data.get("authority") or "",
            local_achievement=data.get("local_achievement"),
            level=data.get("level"),
            credit_system=data.get("credit_system"),
            credits=data.get("credits"),
        )


def _level_label(level: FrameworkLevel) -> str:
    return f"{level.framework.short_name} {level.name}"


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is withdrawn"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown on the statement's public page."),
    )
