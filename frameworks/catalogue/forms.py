"""Console forms of the catalogue: a version's placement and the institution's policies."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from badges.models import AchievementType
from frameworks.catalogue.policies import Scope, format_decimal
from frameworks.catalogue.services import PLACEMENT_FIELDS, Credit
from frameworks.models import (
    AssessmentType,
    CreditSystem,
    MicroCredentialPolicy,
    Participation,
    Placement,
    PolicyChoice,
    QualificationsFramework,
    Stackability,
    Supervision,
)
from issuers.models import Issuer


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
        for name, options in (
            ("assessment_type", AssessmentType.choices),
            ("assessment_supervision", Supervision.choices),
            ("participation", Participation.choices),
            ("stackability", Stackability.choices),
        ):
            choice = self.fields[name]
            if isinstance(choice, forms.ChoiceField):  # no "---------": say what empty means
                choice.choices = [("", _("Not stated")), *options]
        supervision = self.fields["assessment_supervision"]
        supervision.label = _("Supervision and identity verification")
        supervision.help_text = _("During assessment. The badge shows it as identity verification.")
        primary = self.fields["primary_credit"]
        if not isinstance(primary, forms.ChoiceField):  # pragma: no cover - declared above
            raise TypeError(primary)
        primary.choices = [("", _("The first one given"))] + [(s.code, s.name) for s in systems]
        if self.instance.pk:
            if self.instance.notional_hours is not None:  # "150", not "150.00"
                self.initial["notional_hours"] = format_decimal(self.instance.notional_hours)
            for placed in self.instance.levels.all():
                self.initial[f"level_{placed.level.framework.code}"] = str(placed.level_id)
            for credit in self.instance.credits.all():
                self.initial[f"credits_{credit.credit_system.code}"] = credit.amount.normalize()
                if credit.is_primary:
                    self.initial["primary_credit"] = credit.credit_system.code

    def groups(self) -> list[tuple[str, list[Any]]]:
        """The fields in sections, as the template shows them."""
        return [
            (
                str(_("Levels")),
                [self[f"level_{f.code}"] for f in self.frameworks],
            ),
            (
                str(_("Credits and workload")),
                [
                    *(self[f"credits_{s.code}"] for s in self.systems),
                    self["primary_credit"],
                    self["notional_hours"],
                ],
            ),
            (str(_("Learning outcomes")), [self["outcomes_en"], self["outcomes_zh"]]),
            (
                str(_("EU Annex I elements")),
                [
                    self[name]
                    for name in (
                        "assessment_type",
                        "participation",
                        "quality_assurance",
                        "prerequisites",
                        "stackability",
                        "assessment_supervision",
                    )
                ],
            ),
        ]

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


class PolicyForm(forms.Form):
    """One row per policy the institution may choose: apply it or not, and where
    (``scope_<code>``: every micro-credential, one issuer's, or every achievement of a type)."""

    def __init__(
        self,
        *args: Any,
        available: Sequence[MicroCredentialPolicy],
        issuers: Sequence[Issuer],
        chosen: Sequence[PolicyChoice],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.available = list(available)
        self.issuers = {str(issuer.pk): issuer for issuer in issuers}
        scopes: list[tuple[str, Any]] = [("", _("Every micro-credential of the institution"))]
        scopes += [
            (f"issuer:{issuer.pk}", _("Micro-credentials of %(issuer)s") % {"issuer": issuer.name})
            for issuer in issuers
        ]
        scopes += [
            (f"type:{value}", _("Every achievement of the type “%(type)s”") % {"type": label})
            for value, label in AchievementType.choices
            if value != AchievementType.MICRO_CREDENTIAL
        ]
        current = {choice.policy_id: choice for choice in chosen}
        for policy in self.available:
            self.fields[f"apply_{policy.code}"] = forms.BooleanField(
                label=policy.name, required=False
            )
            self.fields[f"scope_{policy.code}"] = forms.ChoiceField(
                label=_("Applies to"), required=False, choices=scopes
            )
            choice = current.get(policy.pk)
            if choice is not None:
                self.initial[f"apply_{policy.code}"] = True
                self.initial[f"scope_{policy.code}"] = scope_value(
                    choice.issuer_id, choice.achievement_type
                )

    def rows(self) -> list[tuple[MicroCredentialPolicy, Any, Any]]:
        """(policy, its tick box, its scope) for the template."""
        return [
            (policy, self[f"apply_{policy.code}"], self[f"scope_{policy.code}"])
            for policy in self.available
        ]

    def chosen(self) -> list[tuple[MicroCredentialPolicy, Scope]]:
        """The ticked policies with their scopes (after ``is_valid``)."""
        found = []
        for policy in self.available:
            if not self.cleaned_data.get(f"apply_{policy.code}"):
                continue
            value = self.cleaned_data.get(f"scope_{policy.code}") or ""
            kind, _sep, rest = value.partition(":")
            if kind == "issuer" and rest in self.issuers:
                found.append((policy, Scope(issuer_id=self.issuers[rest].pk)))
            elif kind == "type" and rest in AchievementType.values:
                found.append((policy, Scope(achievement_type=rest)))
            else:
                found.append((policy, Scope()))
        return found


def scope_label(form: PolicyForm, policy: MicroCredentialPolicy) -> str:
    """Where the ticked ``policy`` applies, as the form offered it."""
    field = form.fields[f"scope_{policy.code}"]
    value = form.cleaned_data.get(f"scope_{policy.code}") or ""
    if isinstance(field, forms.ChoiceField):
        for choice, text in field.choices:  # type: ignore[misc,union-attr]
            if choice == value:
                return str(text)
    return ""


def scope_value(issuer_id: int | None, achievement_type: str) -> str:
    """A scope as the form's choice value."""
    if issuer_id is not None:
        return f"issuer:{issuer_id}"
    if achievement_type:
        return f"type:{achievement_type}"
    return ""
