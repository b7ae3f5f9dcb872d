"""Every write to competency frameworks: importing a CASE or ESCO file, and the console editor
of an institution's own framework and its items.

Each write checks the actor's role (editors and owners of the institution), runs in one
transaction and leaves an audit row. Imported frameworks (CASE, ESCO) are never changed by the
editor: importing the file again updates them, keyed on their items' identifiers.

Competency items keep their URIs once an alignment to a published micro-credential uses them
(research frameworks.md §0.5, §10 "Alignment / export"); such an item can be retired (no longer
offered for new alignments) but never deleted.

Every text a credential can carry (names, statements, codes, URIs: alignments name them) is
refused if XML 1.0 cannot hold it (``common.text``), typed or imported.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges.models import AchievementVersion
from common.text import check_badge_texts, check_file_texts
from frameworks.competencies import importers, selectors
from frameworks.models import CompetencyFramework, CompetencyItem
from issuers.models import AuditAction, Institution, Role
from issuers.permissions import require_role
from issuers.services import record_audit


def _audit(framework: CompetencyFramework, actor: User, action: AuditAction, target: str) -> None:
    record_audit(institution_id=framework.owner_id, actor=actor, action=action, target=target)


def _item_target(framework: CompetencyFramework, item: CompetencyItem) -> str:
    return f"{framework.title}: {item.code or item.label}"


@transaction.atomic
def import_competency_framework(
    *, actor: User, institution: Institution, content: bytes, filename: str = ""
) -> CompetencyFramework:
    """Import a CASE 1.1 package or ESCO skills file; re-importing updates items in place
    (keyed on their identifiers). Editors and owners."""
    require_role(actor, institution, Role.EDITOR)
    try:
        parsed = importers.parse(content, filename)
    except importers.ImportFormatError as error:
        raise ValidationError(
            _("This file is not a CASE 1.1 package or ESCO skills file (%(reason)s).")
            % {"reason": error}
        ) from error
    if not parsed.items:
        raise ValidationError(_("The file holds no competencies with a URI."))
    _check_import_texts(parsed)
    framework, _created = CompetencyFramework.objects.update_or_create(
        owner=institution,
        source=parsed.source,
        identifier=parsed.identifier[:255],
        defaults={
            "uri": parsed.uri if parsed.uri.startswith("http") else "",
            "title": parsed.title[:500],
            "creator": parsed.creator[:255],
            "version": parsed.version[:50],
            "language": parsed.language[:16],
            "imported_at": timezone.now(),
        },
    )
    existing = {i.identifier: i for i in framework.items.all()}
    new_items = []
    for item in parsed.items:
        values = {
            "uri": item.uri,
            "label": item.label,
            "code": item.code,
            "statement": item.statement,
            "item_type": item.item_type,
            "alt_labels": item.alt_labels,
        }
        found = existing.get(item.identifier[:255])
        if found is None:
            new_items.append(
                CompetencyItem(framework=framework, identifier=item.identifier[:255], **values)
            )
        else:
            for name, value in values.items():
                setattr(found, name, value)
            found.save()
    CompetencyItem.objects.bulk_create(new_items)
    _audit(framework, actor, AuditAction.COMPETENCIES_IMPORTED, framework.title)
    return framework


def _check_import_texts(parsed: importers.ParsedFramework) -> None:
    """Refuse a file with text a badge cannot carry, naming its framework or item."""
    head = [parsed.identifier, parsed.title, parsed.uri, parsed.creator, parsed.version]
    places = [(parsed.title or parsed.identifier, [*head, parsed.language])]
    for item in parsed.items:
        texts = [item.identifier, item.uri, item.label, item.code, item.statement, item.item_type]
        places.append((item.label or item.identifier, [*texts, *item.alt_labels]))
    check_file_texts(places)


def _require_custom(actor: User, framework: CompetencyFramework) -> None:
    require_role(actor, framework.owner, Role.EDITOR)
    if framework.source != CompetencyFramework.Source.CUSTOM:
        raise ValidationError(
            _("Imported frameworks are read-only here: import the file again to update them.")
        )


def _names(versions: list[AchievementVersion]) -> str:
    names = dict.fromkeys(v.name or v.achievement.slug for v in versions)
    return ", ".join(f"“{n}”" for n in names)


def _check_framework_texts(
    title_en: str, title_zh: str, description_en: str, description_zh: str, version: str, uri: str
) -> None:
    check_badge_texts(
        {
            "title_en": title_en,
            "title_zh": title_zh,
            "description_en": description_en,
            "description_zh": description_zh,
            "version": version,
            "uri": uri,
        }
    )


@transaction.atomic(durable=True)
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
    _check_framework_texts(title_en, title_zh, description_en, description_zh, version, uri)
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
    framework.uri = uri.strip() or selectors.framework_uri(framework)
    framework.save()
    _audit(framework, actor, AuditAction.COMPETENCY_FRAMEWORK_CREATED, framework.title)
    return framework


@transaction.atomic(durable=True)
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
    _check_framework_texts(title_en, title_zh, description_en, description_zh, version, uri)
    framework = CompetencyFramework.objects.select_for_update().get(pk=framework.pk)
    if not title_en.strip():
        raise ValidationError({"title": _("Give the framework a name in English.")})
    new_uri = uri.strip() or selectors.framework_uri(framework)
    if new_uri != framework.uri and selectors.framework_in_use(framework):
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
    _audit(framework, actor, AuditAction.COMPETENCY_FRAMEWORK_UPDATED, framework.title)
    return framework


def _check_item(
    *,
    framework: CompetencyFramework,
    item: CompetencyItem | None,
    code: str,
    label_en: str,
    label_zh: str,
    uri: str,
    parent: CompetencyItem | None,
) -> None:
    check_badge_texts({"code": code, "label_en": label_en, "label_zh": label_zh, "uri": uri})
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
        elif item is not None and (
            parent.pk == item.pk or parent.pk in selectors.descendants(item)
        ):
            errors["parent"] = _("An item cannot be placed under itself or one of its sub-items.")
    if errors:
        raise ValidationError(errors)


def _next_position(framework: CompetencyFramework, parent: CompetencyItem | None) -> int:
    last = CompetencyItem.objects.filter(framework=framework, parent=parent).aggregate(
        last=Max("position")
    )["last"]
    return 0 if last is None else last + 1


@transaction.atomic(durable=True)
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
    # Locks the framework: two items added at once do not get the same position.
    CompetencyFramework.objects.select_for_update().filter(pk=framework.pk).first()
    _check_item(
        framework=framework,
        item=None,
        code=code,
        label_en=label_en,
        label_zh=label_zh,
        uri=uri,
        parent=parent,
    )
    item = CompetencyItem(
        framework=framework,
        identifier=str(uuid.uuid4()),
        code=code.strip(),
        label=label_en.strip(),
        label_zh=label_zh.strip(),
        parent=parent,
        position=_next_position(framework, parent),
    )
    item.uri = uri.strip() or selectors.item_uri(item)
    item.save()
    _audit(framework, actor, AuditAction.COMPETENCY_ITEM_ADDED, _item_target(framework, item))
    return item


@transaction.atomic(durable=True)
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
    _check_item(
        framework=framework,
        item=item,
        code=code,
        label_en=label_en,
        label_zh=label_zh,
        uri=uri,
        parent=parent,
    )
    new_uri = uri.strip() or selectors.item_uri(item)
    if new_uri != item.uri:
        used = selectors.published_uses(item)
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
        item.position = _next_position(framework, parent)
    item.code = code.strip()
    item.label = label_en.strip()
    item.label_zh = label_zh.strip()
    item.parent = parent
    item.uri = new_uri
    item.save()
    _audit(framework, actor, AuditAction.COMPETENCY_ITEM_UPDATED, _item_target(framework, item))
    return item


@transaction.atomic(durable=True)
def move_competency_item(*, actor: User, item: CompetencyItem, up: bool) -> None:
    """Move an item one place up or down among the items of the same parent."""
    framework = item.framework
    _require_custom(actor, framework)
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
    _audit(framework, actor, AuditAction.COMPETENCY_ITEM_MOVED, _item_target(framework, item))


@transaction.atomic(durable=True)
def retire_competency_item(*, actor: User, item: CompetencyItem, retired: bool = True) -> None:
    """Retire an item (it is no longer offered for new alignments; credentials that carry it
    keep it) or bring it back. Editors and owners."""
    framework = item.framework
    _require_custom(actor, framework)
    item.retired_at = timezone.now() if retired else None
    item.save(update_fields=["retired_at"])
    action = (
        AuditAction.COMPETENCY_ITEM_RETIRED if retired else AuditAction.COMPETENCY_ITEM_REINSTATED
    )
    _audit(framework, actor, action, _item_target(framework, item))


@transaction.atomic(durable=True)
def delete_competency_item(*, actor: User, item: CompetencyItem) -> None:
    """Delete an item nothing uses. An item aligned to a published micro-credential can only
    be retired: its URI is in credentials already issued. Editors and owners."""
    framework = item.framework
    _require_custom(actor, framework)
    published = selectors.published_uses(item)
    if published:
        raise ValidationError(
            _(
                "“%(item)s” cannot be deleted: it is aligned to the published micro-credential(s) "
                "%(names)s. Retire it instead: it stays in the credentials already issued but "
                "can no longer be chosen."
            )
            % {"item": item.label, "names": _names(published)}
        )
    drafts = selectors.draft_uses(item)
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
    target = _item_target(framework, item)
    item.delete()
    _audit(framework, actor, AuditAction.COMPETENCY_ITEM_DELETED, target)
