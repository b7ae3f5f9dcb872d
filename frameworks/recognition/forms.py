"""Console forms of recognition cases: opening a case, a badge offered as evidence, the
assessor's decision and the review of a flagged decision."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from badges.models import Achievement
from frameworks.models import CreditSystem, EquivalenceStatement, RecognitionDecision
from frameworks.pathways.trees import achievement_name


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
        field.label_from_instance = achievement_name  # type: ignore[method-assign,assignment]


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
    """Keep a flagged decision after review, saying why."""

    note = forms.CharField(
        label=_("Why it stands"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
