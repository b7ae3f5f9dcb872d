"""Console forms of pathways: the pathway editor, which works as one plain HTML form (no
JavaScript needed), and the review of a pathway award flagged after a counted badge was
revoked.

The tree travels in the form: one hidden ``node`` input per group, named by its path
(``g`` is the top group, ``g-0`` its first sub-group, ``g-0-1``…), and per group its rule,
numbers and required micro-credentials. Buttons named ``op`` add or remove a group or a
requirement and show the form again; only "Save" writes (``services``). The preview reads the
unsaved tree in English and Chinese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from badges.models import Achievement
from frameworks.catalogue.policies import format_decimal
from frameworks.models import CreditSystem, FrameworkLevel
from frameworks.pathways.trees import MAX_DEPTH, GroupSpec, achievement_name, group_number

RULES = ("all", "at_least_n", "min_credits")


class PathwayForm(forms.Form):
    title_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=200, required=False)
    title_zh = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=200, required=False)
    # Checked by ``target_achievement`` and the service, which say what is wrong in words.
    target = forms.CharField(
        label=gettext_lazy("Credential awarded on completion"),
        required=False,
        widget=forms.Select,
        help_text=gettext_lazy(
            "Awarded automatically, with a signed record of the stack (CLR 2.0), when a "
            "learner meets the requirements below."
        ),
    )

    def __init__(self, *args: Any, achievements: list[Achievement], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.achievements = {str(a.pk): a for a in achievements}
        widget = self.fields["target"].widget
        if not isinstance(widget, forms.Select):  # pragma: no cover - declared above
            raise TypeError(widget)
        widget.choices = [("", _("Choose…"))] + [
            (pk, f"{achievement_name(a)} ({a.slug})") for pk, a in self.achievements.items()
        ]

    def target_achievement(self) -> Achievement | None:
        return self.achievements.get(self.cleaned_data.get("target") or "")


# --- The requirement tree in a form -------------------------------------------------------

PATH = re.compile(rf"^g(-\d{{1,2}}){{0,{MAX_DEPTH}}}$")


def path_name(path: tuple[int, ...]) -> str:
    return "g" + "".join(f"-{n}" for n in path)


def _path_of(name: str) -> tuple[int, ...] | None:
    if not PATH.match(name):
        return None
    return tuple(int(n) for n in name.split("-")[1:])


@dataclass
class TreeChoices:
    """What a group may name: the institution's achievements, credit systems and levels."""

    achievements: dict[str, Achievement]
    systems: dict[str, CreditSystem]
    levels: dict[str, FrameworkLevel]


def _number(value: str, kind: type[int] | type[Decimal]) -> tuple[Any, bool]:
    value = value.strip()
    if not value:
        return None, True
    try:
        found = kind(value)
    except (ValueError, InvalidOperation):
        return None, False
    if isinstance(found, Decimal) and not found.is_finite():
        return None, False
    return found, True


def parse_tree(data: QueryDict, choices: TreeChoices) -> tuple[GroupSpec, list[str]]:
    """The tree as posted, with what could not be read (numbers that are not numbers,
    micro-credentials that are not the institution's). A chosen but not yet added
    micro-credential (a group's "add" list) is added."""
    problems: list[str] = []
    specs: dict[tuple[int, ...], GroupSpec] = {}
    paths = [p for p in (_path_of(n) for n in data.getlist("node")[:200]) if p is not None]
    for path in sorted(set(paths) | {()}):
        if path and path[:-1] not in specs:
            continue
        name = path_name(path)
        where = group_number(path)
        rule = data.get(f"{name}__rule", "all")
        count, ok_count = _number(data.get(f"{name}__count", ""), int)
        credits, ok_credits = _number(data.get(f"{name}__credits", ""), Decimal)
        if not ok_count:
            problems.append(_("%(where)s: N must be a whole number.") % {"where": where})
        if not ok_credits:
            problems.append(_("%(where)s: the credits must be a number.") % {"where": where})
        picked = [*data.getlist(f"{name}__req"), data.get(f"{name}__add", "")]
        achievements = []
        for pk in picked:
            if not pk:
                continue
            found = choices.achievements.get(pk)
            if found is None:
                problems.append(
                    _("%(where)s: a chosen micro-credential is not one of your institution's.")
                    % {"where": where}
                )
            elif found not in achievements:
                achievements.append(found)
        spec = GroupSpec(
            rule=rule if rule in RULES else "all",
            achievements=achievements,
            children=[],
            required_count=count,
            min_credits=credits,
            credit_system=choices.systems.get(data.get(f"{name}__system", "")),
            min_level=choices.levels.get(data.get(f"{name}__level", "")),
        )
        specs[path] = spec
        if path:
            parent = specs[path[:-1]]
            parent.children = [*parent.children, spec]
    return specs[()], problems


def _group_at(root: GroupSpec, path: tuple[int, ...]) -> GroupSpec | None:
    node = root
    for n in path:
        if n >= len(node.children):
            return None
        node = node.children[n]
    return node


def apply_op(root: GroupSpec, op: str) -> GroupSpec:
    """Apply one editor button: ``add-group:g-0``, ``remove-group:g-0``,
    ``remove-req:g-0:2``, ``up-req:g:1``, ``down-req:g:1``."""
    action, _sep, rest = op.partition(":")
    name, _sep, index_text = rest.partition(":")
    path = _path_of(name)
    if path is None:
        return root
    node = _group_at(root, path)
    if node is None:
        return root
    index = int(index_text) if index_text.isdigit() else -1
    if action == "add-group" and len(path) + 1 < MAX_DEPTH:
        node.children = [*node.children, GroupSpec(rule="all", achievements=[], children=[])]
    elif action == "remove-group" and path:
        parent = _group_at(root, path[:-1])
        if parent is not None:
            parent.children = [c for n, c in enumerate(parent.children) if n != path[-1]]
    elif action == "remove-req" and 0 <= index < len(node.achievements):
        node.achievements = [a for n, a in enumerate(node.achievements) if n != index]
    elif action in {"up-req", "down-req"} and 0 <= index < len(node.achievements):
        other = index - 1 if action == "up-req" else index + 1
        if 0 <= other < len(node.achievements):
            items = list(node.achievements)
            items[index], items[other] = items[other], items[index]
            node.achievements = items
    return root


@dataclass
class EditorNode:
    """A group as the editor form shows it."""

    path: tuple[int, ...]
    spec: GroupSpec
    requirements: list[tuple[str, str]]  # (pk, name)
    children: list[EditorNode] = field(default_factory=list)

    @property
    def name(self) -> str:
        return path_name(self.path)

    @property
    def number(self) -> str:
        return group_number(self.path)

    @property
    def depth(self) -> int:
        return len(self.path)

    @property
    def can_nest(self) -> bool:
        return len(self.path) + 1 < MAX_DEPTH

    @property
    def credits_text(self) -> str:
        return format_decimal(self.spec.min_credits) if self.spec.min_credits is not None else ""


def editor_nodes(spec: GroupSpec, path: tuple[int, ...] = ()) -> EditorNode:
    return EditorNode(
        path=path,
        spec=spec,
        requirements=[(str(a.pk), achievement_name(a)) for a in spec.achievements],
        children=[editor_nodes(c, (*path, n)) for n, c in enumerate(spec.children)],
    )


@dataclass
class PreviewNode:
    """A group in words, in one language."""

    text: str
    items: list[str]
    children: list[PreviewNode]


def _rule_text(spec: GroupSpec) -> str:
    if spec.rule == "at_least_n":
        return _("At least %(n)s of:") % {"n": spec.required_count or "N"}
    if spec.rule == "min_credits":
        unit = spec.credit_system.unit if spec.credit_system else _("credits")
        amount = format_decimal(spec.min_credits) if spec.min_credits is not None else "X"
        if spec.min_level is not None:
            return _("At least %(amount)s %(unit)s at %(level)s or above, from:") % {
                "amount": amount,
                "unit": unit,
                "level": f"{spec.min_level.framework.short_name} {spec.min_level.name}",
            }
        return _("At least %(amount)s %(unit)s from:") % {"amount": amount, "unit": unit}
    return _("All of:")


def _preview(spec: GroupSpec, language: str) -> PreviewNode:
    return PreviewNode(
        text=_rule_text(spec),
        items=[achievement_name(a, language) for a in spec.achievements],
        children=[_preview(c, language) for c in spec.children],
    )


def preview(
    spec: GroupSpec, title_en: str, title_zh: str, target: Achievement | None
) -> list[dict[str, Any]]:
    """The tree in words in English and Chinese, side by side."""
    result = []
    for language, label in (("en", "English"), ("zh-hans", "中文")):
        with translation.override(language):
            title = (title_zh or title_en) if language.startswith("zh") else (title_en or title_zh)
            result.append(
                {
                    "language": label,
                    "lang": "zh-Hans" if language.startswith("zh") else "en",
                    "title": title,
                    "awards": _("Awards: %(name)s") % {"name": achievement_name(target, language)}
                    if target is not None
                    else "",
                    "tree": _preview(spec, language),
                }
            )
    return result


class PathwayReviewForm(forms.Form):
    """Keep a flagged pathway award, or revoke the pathway credential."""

    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("keep", gettext_lazy("Keep the pathway credential")),
            ("revoke", gettext_lazy("Revoke the pathway credential")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Note or reason"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "A reason is needed to revoke; it is shown to the learner and verifiers."
        ),
    )
