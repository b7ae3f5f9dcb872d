"""Reads of competency frameworks and their items: the permanent public addresses of custom
ones, an institution's frameworks, the items its editors may align to, which micro-credentials
use an item, the tree the editor and the public pages show, and the access functions the
console views use (404 for another institution's framework or item, 403 without the role).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse

from accounts.models import User
from badges import credentials
from badges.models import AchievementVersion, VersionStatus
from frameworks.models import CompetencyAlignment, CompetencyFramework, CompetencyItem
from issuers.models import Institution, Role
from issuers.permissions import require_role

Source = CompetencyFramework.Source


def framework_uri(framework: CompetencyFramework) -> str:
    """The permanent public address the platform gives a custom framework."""
    return credentials.absolute(reverse("competency_framework_public", args=[framework.identifier]))


def item_uri(item: CompetencyItem) -> str:
    """The permanent public address the platform gives an item of a custom framework."""
    return credentials.absolute(
        reverse("competency_item_public", args=[item.framework.identifier, item.identifier])
    )


def competency_frameworks(institution: Institution) -> QuerySet[CompetencyFramework]:
    """The institution's competency frameworks, each with ``item_count`` (one query)."""
    return CompetencyFramework.objects.filter(owner=institution).annotate(item_count=Count("items"))


@dataclass(frozen=True)
class FrameworkContents:
    """A competency framework as a search that found nothing describes it."""

    title: str
    count: int
    examples: tuple[str, ...]


def framework_contents(institution: Institution, examples: int = 3) -> list[FrameworkContents]:
    """Each of the institution's competency frameworks with its number of items (not retired)
    and the first few of them, for a search that matched nothing."""
    found = []
    for framework in CompetencyFramework.objects.filter(owner=institution).order_by("title"):
        items = framework.items.filter(retired_at__isnull=True).order_by("label")
        found.append(
            FrameworkContents(
                title=framework.title,
                count=items.count(),
                examples=tuple(items.values_list("label", flat=True)[:examples]),
            )
        )
    return found


def competency_framework_for(
    user: User,
    institution: Institution,
    framework_id: int,
    role: Role | None,
    *,
    custom: bool = False,
) -> CompetencyFramework:
    """The institution's framework (with ``custom``, only one of its own: imported ones are
    changed by importing the file again); 404 for any other, 403 if ``user`` lacks ``role``
    (``None``: every member may read it)."""
    found = get_object_or_404(CompetencyFramework, pk=framework_id, owner=institution)
    if custom and found.source != Source.CUSTOM:
        raise Http404
    if role is not None:
        require_role(user, institution, role)
    return found


def competency_item_for(
    user: User, institution: Institution, framework_id: int, item_id: int, role: Role | None
) -> CompetencyItem:
    """An item of one of the institution's own (custom) frameworks, with its framework; 404
    for any other, 403 if ``user`` lacks ``role``."""
    found = get_object_or_404(
        CompetencyItem.objects.select_related("framework__owner"),
        pk=item_id,
        framework_id=framework_id,
        framework__owner=institution,
        framework__source=Source.CUSTOM,
    )
    if role is not None:
        require_role(user, institution, role)
    return found


def competency_items(institution: Institution) -> QuerySet[CompetencyItem]:
    return CompetencyItem.objects.filter(framework__owner=institution).select_related("framework")


def chosen_items(institution: Institution, ids: Sequence[str]) -> list[CompetencyItem]:
    """The competency items picked in a form, in the order given, of the institution's
    frameworks (ids of any other are dropped)."""
    numbers = [int(i) for i in ids if i.isdigit()]
    found = {item.pk: item for item in competency_items(institution).filter(pk__in=numbers)}
    return [found[n] for n in dict.fromkeys(numbers) if n in found]


def search_competencies(
    institution: Institution, query: str, limit: int = 20
) -> list[CompetencyItem]:
    """Items of the institution's competency frameworks (not retired) whose label (English or
    Chinese), code or URI matches."""
    query = query.strip()
    if len(query) < 2:
        return []
    # Retired items of custom frameworks stay in credentials but are not offered again.
    return list(
        competency_items(institution)
        .filter(retired_at__isnull=True)
        .filter(
            Q(label__icontains=query)
            | Q(label_zh__icontains=query)
            | Q(code__iexact=query)
            | Q(uri=query)
        )[:limit]
    )


def published_uses(item: CompetencyItem) -> list[AchievementVersion]:
    """Published versions aligned to ``item``: their credentials carry its URI."""
    return list(
        AchievementVersion.objects.filter(
            placement__competencies__item=item, status=VersionStatus.PUBLISHED
        )
        .select_related("achievement")
        .order_by("achievement__slug", "number")
    )


def draft_uses(item: CompetencyItem) -> list[AchievementVersion]:
    """Drafts aligned to ``item``: deleting it would change them."""
    return list(
        AchievementVersion.objects.filter(
            placement__competencies__item=item, status=VersionStatus.DRAFT
        )
        .select_related("achievement")
        .order_by("achievement__slug")
    )


def framework_in_use(framework: CompetencyFramework) -> bool:
    """Whether a published micro-credential is aligned to one of the framework's items."""
    return CompetencyAlignment.objects.filter(
        item__framework=framework, placement__version__status=VersionStatus.PUBLISHED
    ).exists()


def descendants(item: CompetencyItem) -> set[int]:
    """Primary keys of the items below ``item`` in its framework's hierarchy."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in CompetencyItem.objects.filter(framework_id=item.framework_id).values_list(
        "pk", "parent_id"
    ):
        children.setdefault(parent, []).append(pk)
    found: set[int] = set()
    todo = list(children.get(item.pk, []))
    while todo:
        pk = todo.pop()
        if pk not in found:
            found.add(pk)
            todo.extend(children.get(pk, []))
    return found


@dataclass
class ItemRow:
    """An item as the editor and the public page list it: indented under its parent."""

    item: CompetencyItem
    depth: int
    uses: int = 0
    first: bool = False
    last: bool = False
    children: list[ItemRow] = field(default_factory=list)

    @property
    def indent(self) -> str:
        return f"{self.depth * 1.75:.2f}rem"


def item_rows(framework: CompetencyFramework) -> list[ItemRow]:
    """The items in hierarchy order, each with its depth and how many published
    micro-credentials are aligned to it."""
    items = list(framework.items.order_by("position", "pk"))
    uses = dict(
        CompetencyAlignment.objects.filter(
            item__framework=framework, placement__version__status=VersionStatus.PUBLISHED
        )
        .values_list("item")
        .annotate(n=Count("placement__version__achievement", distinct=True))
        .values_list("item", "n")
    )
    children: dict[int | None, list[CompetencyItem]] = {}
    known = {i.pk for i in items}
    for item in items:
        parent = item.parent_id if item.parent_id in known else None
        children.setdefault(parent, []).append(item)
    rows: list[ItemRow] = []

    def add(parent: int | None, depth: int) -> None:
        siblings = children.get(parent, [])
        for n, item in enumerate(siblings):
            rows.append(
                ItemRow(
                    item=item,
                    depth=depth,
                    uses=uses.get(item.pk, 0),
                    first=n == 0,
                    last=n == len(siblings) - 1,
                )
            )
            add(item.pk, depth + 1)

    add(None, 0)
    return rows


def public_framework(identifier: uuid.UUID) -> CompetencyFramework:
    """A custom framework by the identifier in its minted URI; 404 for imported ones (their
    URIs are their source's)."""
    return get_object_or_404(
        CompetencyFramework.objects.select_related("owner"),
        identifier=str(identifier),
        source=Source.CUSTOM,
    )


def public_item(framework: CompetencyFramework, identifier: uuid.UUID) -> CompetencyItem:
    return get_object_or_404(CompetencyItem, framework=framework, identifier=str(identifier))
