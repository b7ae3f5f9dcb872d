"""Console forms: a version's placement, the institution's policies, competency imports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from badges.models import Achievement
from frameworks.models import (
    CompetencyItem,
    CreditSystem,
    MicroCredentialPolicy,
    Placement,
    QualificationsFramework,
    RecognitionDecision,
)
from frameworks.services import PLACEMENT_FIELDS, Credit


class PlacementForm(forms.ModelForm[Placement]):
    """Placement fields plus one level choice per framework and one amount per credit system."""

    primary_credit = forms.ChoiceField(
        label=_("Credit value stated in the credential"), required=False
    )

    class Meta:
        model = Placement
        fields = list(PLACEMENT_FIELDS)
        widgets = {
            "outcomes_en": forms.Textarea(attrs={"rows": 4}),
            "outcomes_zh": forms.Textarea(attrs={"rows": 4}),
            "prerequisites": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(
        self,
        *args: Any,
        frameworks: list[QualificationsFramework],
        systems: list[CreditSystem],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.frameworks = frameworks
        self.systems = systems
        for framework in frameworks:
            self.fields[f"level_{framework.code}"] = forms.ChoiceField(
                label=_("%(framework)s level") % {"framework": framework.short_name},
                required=False,
                choices=[("", _("Not placed"))]
                + [(str(level.pk), level.name) for level in framework.levels.all()],
            )
        for system in systems:
            self.fields[f"credits_{system.code}"] = forms.DecimalField(
                label=system.name,
                required=False,
                min_value=Decimal("0.1"),
                max_digits=7,
                decimal_places=2,
            )
        primary = self.fields["primary_credit"]
        if not isinstance(primary, forms.ChoiceField):  # pragma: no cover - declared above
            raise TypeError(primary)
        primary.choices = [("", _("The first one given"))] + [(s.code, s.name) for s in systems]
        if self.instance.pk:
            for placed in self.instance.levels.all():
                self.initial[f"level_{placed.level.framework.code}"] = str(placed.level_id)
            for credit in self.instance.credits.all():
                self.initial[f"credits_{credit.credit_system.code}"] = credit.amount.normalize()
                if credit.is_primary:
                    self.initial["primary_credit"] = credit.credit_system.code

    def level_ids(self) -> list[int]:
        return [
            int(self.cleaned_data[f"level_{f.code}"])
            for f in self.frameworks
            if self.cleaned_data.get(f"level_{f.code}")
        ]

    def credits(self) -> list[Credit]:
        given = [
            Credit(system=s, amount=self.cleaned_data[f"credits_{s.code}"])
            for s in self.systems
            if self.cleaned_data.get(f"credits_{s.code}") is not None
        ]
        primary = self.cleaned_data.get("primary_credit")
        given.sort(key=lambda c: c.system.code != primary)
        return given

    def content(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in PLACEMENT_FIELDS}


def _policy_label(policy: MicroCredentialPolicy) -> str:
    return policy.name


class PolicyForm(forms.Form):
    policies = forms.ModelMultipleChoiceField(
        label=_("Micro-credential policies"),
        queryset=MicroCredentialPolicy.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, available: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["policies"]
        if not isinstance(field, forms.ModelMultipleChoiceField):  # pragma: no cover
            raise TypeError(field)
        field.queryset = available
        field.label_from_instance = _policy_label  # type: ignore[method-assign,assignment]


class CompetencyImportForm(forms.Form):
    file = forms.FileField(
        label=_("CASE 1.1 package (JSON) or ESCO skills (CSV or JSON-LD)"),
        help_text=_("Items keep their URIs; importing the same framework again updates it."),
    )


def chosen_items(ids: list[str], allowed: Any) -> list[CompetencyItem]:
    """The competency items picked in the form, in the order given, within ``allowed``."""
    numbers = [int(i) for i in ids if i.isdigit()]
    found = {item.pk: item for item in allowed.filter(pk__in=numbers)}
    return [found[n] for n in dict.fromkeys(numbers) if n in found]


class CaseForm(forms.Form):
    learner_email = forms.EmailField(label=_("Learner's e-mail address"))
    learner_name = forms.CharField(label=_("Learner's name"), required=False, max_length=200)
    module = forms.ModelChoiceField(
        label=_("Local micro-credential or module"), queryset=Achievement.objects.none()
    )

    def __init__(self, *args: Any, modules: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["module"]
        if not isinstance(field, forms.ModelChoiceField):  # pragma: no cover
            raise TypeError(field)
        field.queryset = modules


class EvidenceForm(forms.Form):
    url = forms.URLField(
        label=_("Link to the badge"), required=False, max_length=2000, assume_scheme="https"
    )
    text = forms.CharField(
        label=_("Or paste its JSON"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    upload = forms.FileField(label=_("Or choose a badge image (PNG or SVG)"), required=False)


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=RecognitionDecision.Outcome.choices)
    credits = forms.DecimalField(
        label=_("Credits granted"), required=False, min_value=Decimal("0.1"), decimal_places=2
    )
    credit_system = forms.ModelChoiceField(
        label=_("Credit system"), queryset=CreditSystem.objects.all(), required=False
    )
    rationale = forms.CharField(label=_("Rationale"), widget=forms.Textarea(attrs={"rows": 3}))
