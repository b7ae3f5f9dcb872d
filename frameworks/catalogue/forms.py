"""Console forms of the catalogue: a version's placement and the institution's policies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from frameworks.catalogue.services import PLACEMENT_FIELDS, Credit
from frameworks.models import (
    CreditSystem,
    MicroCredentialPolicy,
    Placement,
    QualificationsFramework,
)


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
        """The credit values given, the one chosen as primary first."""
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
