"""Console forms of competency frameworks: importing a CASE or ESCO file, and the editor of
an institution's own framework and its items."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from frameworks.models import CompetencyFramework, CompetencyItem
from issuers.models import badge_text


class CompetencyImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CASE 1.1 package (JSON) or ESCO skills (CSV or JSON-LD)"),
        help_text=gettext_lazy(
            "Items keep their URIs; importing the same framework again updates it."
        ),
    )


class CompetencyFrameworkForm(forms.Form):
    title_en = forms.CharField(
        label=gettext_lazy("Name (English)"), max_length=500, validators=badge_text
    )
    title_zh = forms.CharField(
        label=gettext_lazy("Name (Chinese)"), max_length=500, required=False, validators=badge_text
    )
    description_en = forms.CharField(
        label=gettext_lazy("Description (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=badge_text,
    )
    description_zh = forms.CharField(
        label=gettext_lazy("Description (Chinese)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=badge_text,
    )
    version = forms.CharField(
        label=gettext_lazy("Version"), max_length=50, required=False, validators=badge_text
    )
    uri = forms.URLField(
        label=gettext_lazy("Public URI of the framework (optional)"),
        required=False,
        max_length=2048,
        assume_scheme="https",
        validators=badge_text,
        help_text=gettext_lazy(
            "Leave it empty and Insignia gives the framework a permanent public page. "
            "Give your own only if the framework is already published elsewhere."
        ),
    )

    @staticmethod
    def initial_of(framework: CompetencyFramework, minted: str) -> dict[str, str]:
        return {
            "title_en": framework.title,
            "title_zh": framework.title_zh,
            "description_en": framework.description_en,
            "description_zh": framework.description_zh,
            "version": framework.version,
            "uri": "" if framework.uri == minted else framework.uri,
        }


class CompetencyItemForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("A short reference such as DA.2; unique within the framework."),
        validators=badge_text,
    )
    label_en = forms.CharField(
        label=gettext_lazy("Statement (English)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=badge_text,
    )
    label_zh = forms.CharField(
        label=gettext_lazy("Statement (Chinese)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=badge_text,
    )
    parent = forms.TypedChoiceField(
        label=gettext_lazy("Under"), required=False, coerce=int, empty_value=None
    )
    uri = forms.URLField(
        label=gettext_lazy("External URI (optional)"),
        required=False,
        max_length=2048,
        assume_scheme="https",
        validators=badge_text,
        help_text=gettext_lazy(
            "Leave it empty and the item gets a permanent address on this site. Once a "
            "published micro-credential is aligned to the item, its URI no longer changes."
        ),
    )

    def __init__(
        self,
        *args: Any,
        items: list[CompetencyItem],
        exclude: set[int] = frozenset(),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.items = {i.pk: i for i in items if i.pk not in exclude}
        parent = self.fields["parent"]
        if not isinstance(parent, forms.TypedChoiceField):  # pragma: no cover - declared above
            raise TypeError(parent)
        parent.choices = [("", _("Top level"))] + [
            (str(i.pk), f"{i.code} {i.label}".strip()[:120]) for i in self.items.values()
        ]

    def parent_item(self) -> CompetencyItem | None:
        pk = self.cleaned_data.get("parent")
        return self.items.get(pk) if pk is not None else None

    @staticmethod
    def initial_of(item: CompetencyItem, minted: str) -> dict[str, Any]:
        return {
            "code": item.code,
            "label_en": item.label,
            "label_zh": item.label_zh,
            "parent": str(item.parent_id) if item.parent_id else "",
            "uri": "" if item.uri == minted else item.uri,
        }
