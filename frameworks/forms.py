"""Console forms: a version's placement, the institution's policies, competency imports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from badges.models import Achievement
from frameworks.equivalence import StatementData
from frameworks.models import (
    CompetencyItem,
    CreditSystem,
    EquivalenceStatement,
    FrameworkLevel,
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
    equivalence = forms.ModelChoiceField(
        label=_("Equivalence statement applied"),
        queryset=EquivalenceStatement.objects.none(),
        required=False,
        empty_label=_("None"),
    )

    def __init__(self, *args: Any, equivalences: Any = None, **kwargs: Any) -> None:
        """``equivalences``: the statements that may be applied (those the case's badges
        match); without any, the field is left out."""
        super().__init__(*args, **kwargs)
        field = self.fields["equivalence"]
        if not isinstance(field, forms.ModelChoiceField):  # pragma: no cover
            raise TypeError(field)
        if equivalences is None or not equivalences.exists():
            del self.fields["equivalence"]
            return
        field.queryset = equivalences
        field.label_from_instance = _statement_label  # type: ignore[method-assign,assignment]


def _statement_label(statement: EquivalenceStatement) -> str:
    return f"{statement.title} ({statement.provider_name})"


class ReviewForm(forms.Form):
    """Keep a flagged decision or pathway award after review, saying why."""

    note = forms.CharField(
        label=_("Why it stands"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


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


class PathwayReviewForm(forms.Form):
    """Keep a flagged pathway award, or revoke the pathway credential."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("keep", _("Keep the pathway credential")),
            ("revoke", _("Revoke the pathway credential")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note or reason"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("A reason is needed to revoke; it is shown to the learner and verifiers."),
    )
