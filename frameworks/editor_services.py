"""Writes of the console's competency framework editor: an institution's own framework and
its items (issue #7); the pathway editor's writes are in ``frameworks.pathway_editor``.

Each write checks the actor's role (editors and owners of the institution), runs in one
transaction and leaves an audit row. Imported frameworks (CASE, ESCO) are never changed here:
re-importing the file updates them (``frameworks.services.import_competency_framework``).

Competency items keep their URIs once an alignment to a published micro-credential uses them
(research frameworks.md §0.5, §10 "Alignment / export"); such an item can be retired (no longer
offered for new alignments) but never deleted. A pathway has no versions: editing its tree
changes the rules for future completions only; existing completions, their credentials and
signed records are rows of their own and stay as they are (research §9.4).
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import credentials
from badges.models import AchievementVersion, VersionStatus
from frameworks.models import (
    CompetencyAlignment,
    CompetencyFramework,
    CompetencyItem,
)
from issuers.models import AuditEvent, Institution, Role
from issuers.permissions import require_role


def _audit(*, institution: Institution, actor: User, action: str, target: str) -> None:
    AuditEvent.objects.create(
        institution=institution, actor=actor, action=action, target=target[:300], data={}
    )


# --- Competency frameworks ----------------------------------------------------------------


def framework_uri(framework: CompetencyFramework) -> str:
    """The permanent public address the platform gives a custom framework."""
    return credentials.absolute(reverse("competency_framework_public", args=[framework.identifier]))


def item_uri(item: CompetencyItem) -> str:
    """The permanent public address the platform gives an item of a custom framework."""
    return credentials.absolute(
        reverse("competency_item_public", args=[item.framework.identifier, item.identifier])
    )


def _require_custom(actor: User, framework: CompetencyFramework) -> None:
    require_role(actor, framework.owner, Role.EDITOR)
    if framework.source != CompetencyFramework.Source.CUSTOM:
        raise ValidationError(
            _("Imported frameworks are read-only here: import the file again to update them.")
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
    return list(
        AchievementVersion.objects.filter(
            placement__competencies__item=item, status=VersionStatus.DRAFT
        )
        .select_related("achievement")
        .order_by("achievement__slug")
    )


def _framework_in_use(framework: CompetencyFramework) -> bool:
    return CompetencyAlignment.objects.filter(
        item__framework=framework, placement__version__status=VersionStatus.PUBLISHED
    ).exists()


def _names(versions: list[AchievementVersion]) -> str:
    names = dict.fromkeys(v.name or v.achievement.slug for v in versions)
    return ", ".join(f"“{n}”" for n in names)


@transaction.atomic
def create_competency_framework(
    *,
    actor: User,
    institution: Institution,
    title_en: str,
    title_zh: str = "",
    description_en: str = "",
    description_zh: str = "",
    version: str = "",
    uri: str = "",
) -> CompetencyFramework:
    """Create the institution's own competency framework. Without a ``uri`` of its own, it
    gets a permanent one under ``INSIGNIA_BASE_URL``. Editors and owners."""
    require_role(actor, institution, Role.EDITOR)
    if not title_en.strip():
        raise ValidationError({"title": _("Give the framework a name in English.")})
    framework = CompetencyFramework(
        owner=institution,
        source=CompetencyFramework.Source.CUSTOM,
        identifier=str(uuid.uuid4()),
        title=title_en.strip(),
        title_zh=title_zh.strip(),
        description_en=description_en.strip(),
        description_zh=description_zh.strip(),
        version=version.strip(),
        creator=institution.name_en[:255],
    )
    framework.uri = uri.strip() or framework_uri(framework)
    framework.save()
    _audit(
        institution=institution,
        actor=actor,
        action="competency_framework.created",
        target=framework.title,
    )
    return framework


@transaction.atomic
def update_competency_framework(
    *,
    actor: User,
    framework: CompetencyFramework,
    title_en: str,
    title_zh: str = "",
    description_en: str = "",
    description_zh: str = "",
    version: str = "",
    uri: str = "",
) -> CompetencyFramework:
    """Change a custom framework's name, description, version or URI. Its URI stays once a
    published micro-credential is aligned to one of its items. Editors and owners."""
    _require_custom(actor, framework)
    framework = CompetencyFramework.objects.select_for_update().get(pk=framework.pk)
    if not title_en.strip():
        raise ValidationError({"title": _("Give the framework a name in English.")})
    new_uri = uri.strip() or framework_uri(framework)
    if new_uri != framework.uri and _framework_in_use(framework):
        raise ValidationError(
            {
                "uri": _(
                    "Published micro-credentials are aligned to this framework, so its URI can "
                    "no longer change."
                )
            }
        )
    framework.title = title_en.strip()
    framework.title_zh = title_zh.strip()
    framework.description_en = description_en.strip()
    framework.description_zh = description_zh.strip()
    framework.version = version.strip()
    framework.uri = new_uri
    framework.save()
    _audit(
        institution=framework.owner,
        actor=actor,
        action="competency_framework.updated",
        target=framework.title,
    )
    return framework


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


def _check_item(
    *,
    framework: CompetencyFramework,
    item: CompetencyItem | None,
    code: str,
    label_en: str,
    parent: CompetencyItem | None,
) -> None:
    errors: dict[str, str] = {}
    if not label_en.strip():
        errors["label"] = _("Write the statement in English.")
    if code.strip():
        clash = CompetencyItem.objects.filter(framework=framework, code__iexact=code.strip())
        if item is not None:
            clash = clash.exclude(pk=item.pk)
        if clash.exists():
            errors["code"] = _("Another item of this framework already has the code %(code)s.") % {
                "code": code.strip()
            }
    if parent is not None:
        if parent.framework_id != framework.pk:
            errors["parent"] = _("Choose a parent item of the same framework.")
        elif item is not None and (parent.pk == item.pk or parent.pk in descendants(item)):
            errors["parent"] = _("An item cannot be placed under itself or one of its sub-items.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def add_competency_item(
    *,
    actor: User,
    framework: CompetencyFramework,
    label_en: str,
    label_zh: str = "",
    code: str = "",
    parent: CompetencyItem | None = None,
    uri: str = "",
) -> CompetencyItem:
    """Add an item at the end of its parent's items. Without an external ``uri`` it gets a
    permanent one under ``INSIGNIA_BASE_URL``. Editors and owners."""
    _require_custom(actor, framework)
    CompetencyFramework.objects.select_for_update().filter(pk=framework.pk).first()
    _check_item(framework=framework, item=None, code=code, label_en=label_en, parent=parent)
    last = CompetencyItem.objects.filter(framework=framework, parent=parent).aggregate(
        last=Max("position")
    )["last"]
    item = CompetencyItem(
        framework=framework,
        identifier=str(uuid.uuid4()),
        code=code.strip(),
        label=label_en.strip(),
        label_zh=label_zh.strip(),
        parent=parent,
        position=0 if last is None else last + 1,
    )
    item.uri = uri.strip() or item_uri(item)
    item.save()
    _audit(
        institution=framework.owner,
        actor=actor,
        action="competency_item.added",
        target=f"{framework.title}: {item.code or item.label}",
    )
    return item


@transaction.atomic
def update_competency_item(
    *,
    actor: User,
    item: CompetencyItem,
    label_en: str,
    label_zh: str = "",
    code: str = "",
    parent: CompetencyItem | None = None,
    uri: str = "",
) -> CompetencyItem:
    """Change an item's code, statement, parent or external URI. The URI of an item aligned
    to a published micro-credential no longer changes. Editors and owners."""
    framework = item.framework
    _require_custom(actor, framework)
    item = CompetencyItem.objects.select_for_update().select_related("framework").get(pk=item.pk)
    _check_item(framework=framework, item=item, code=code, label_en=label_en, parent=parent)
    new_uri = uri.strip() or item_uri(item)
    if new_uri != item.uri:
        used = published_uses(item)
        if used:
            raise ValidationError(
                {
                    "uri": _(
                        "This item is aligned to the published micro-credential(s) %(names)s, "
                        "whose credentials carry its URI, so the URI can no longer change."
                    )
                    % {"names": _names(used)}
                }
            )
    if parent != item.parent:
        last = CompetencyItem.objects.filter(framework=framework, parent=parent).aggregate(
            last=Max("position")
        )["last"]
        item.position = 0 if last is None else last + 1
    item.code = code.strip()
    item.label = label_en.strip()
    item.label_zh = label_zh.strip()
    item.parent = parent
    item.uri = new_uri
    item.save()
    _audit(
        institution=framework.owner,
        actor=actor,
        action="competency_item.updated",
        target=f"{framework.title}: {item.code or item.label}",
    )
    return item


@transaction.atomic
def move_competency_item(*, actor: User, item: CompetencyItem, up: bool) -> None:
    """Move an item one place up or down among the items of the same parent."""
    _require_custom(actor, item.framework)
    siblings = list(
        CompetencyItem.objects.select_for_update()
        .filter(framework_id=item.framework_id, parent_id=item.parent_id)
        .order_by("position", "pk")
    )
    index = next(n for n, s in enumerate(siblings) if s.pk == item.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    for n, sibling in enumerate(siblings):
        if sibling.position != n:
            sibling.position = n
            sibling.save(update_fields=["position"])
    _audit(
        institution=item.framework.owner,
        actor=actor,
        action="competency_item.moved",
        target=f"{item.framework.title}: {item.code or item.label}",
    )


@transaction.atomic
def retire_competency_item(*, actor: User, item: CompetencyItem, retired: bool = True) -> None:
    """Retire an item (it is no longer offered for new alignments; credentials that carry it
    keep it) or bring it back. Editors and owners."""
    _require_custom(actor, item.framework)
    item.retired_at = timezone.now() if retired else None
    item.save(update_fields=["retired_at"])
    _audit(
        institution=item.framework.owner,
        actor=actor,
        action="competency_item.retired" if retired else "competency_item.reinstated",
        target=f"{item.framework.title}: {item.code or item.label}",
    )


@transaction.atomic
def delete_competency_item(*, actor: User, item: CompetencyItem) -> None:
    """Delete an item nothing uses. An item aligned to a published micro-credential can only
    be retired: its URI is in credentials already issued. Editors and owners."""
    _require_custom(actor, item.framework)
    published = published_uses(item)
    if published:
        raise ValidationError(
            _(
                "“%(item)s” cannot be deleted: it is aligned to the published micro-credential(s) "
                "%(names)s. Retire it instead: it stays in the credentials already issued but "
                "can no longer be chosen."
            )
            % {"item": item.label, "names": _names(published)}
        )
    drafts = draft_uses(item)
    if drafts:
        raise ValidationError(
            _(
                "“%(item)s” is aligned to the draft of %(names)s. Remove it from the draft "
                "first, or retire it."
            )
            % {"item": item.label, "names": _names(drafts)}
        )
    if CompetencyItem.objects.filter(parent=item).exists():
        raise ValidationError(
            _("“%(item)s” has sub-items. Move or delete them first.") % {"item": item.label}
        )
    framework = item.framework
    item.delete()
    _audit(
        institution=framework.owner,
        actor=actor,
        action="competency_item.deleted",
        target=f"{framework.title}: {item.code or item.label}",
    )
