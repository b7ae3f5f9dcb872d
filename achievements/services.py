"""Every write to achievements and their versions. Each checks the actor's role: editors and
owners of the achievement's issuer.

A draft may change; a published version never does: editing it starts the next version,
which keeps the framework placement of the version it was started from. Publishing checks
the version's text and the institution's micro-credential policies (``frameworks``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import selectors as badge_selectors
from badges.models import CONTENT_FIELDS, Achievement, AchievementVersion, VersionStatus
from common.text import check_badge_texts
from frameworks.catalogue import policies
from frameworks.catalogue import selectors as catalogue_selectors
from frameworks.catalogue import services as catalogue_services
from issuers import services as issuer_services
from issuers.models import RESERVED_SLUGS, AuditAction, Issuer, Role
from issuers.permissions import require_role

EDITABLE_FIELDS = frozenset(CONTENT_FIELDS) - {"image"}


def _set_content(
    version: AchievementVersion, fields: dict[str, Any], image: bytes | None, issuer: Issuer
) -> None:
    unknown = set(fields) - EDITABLE_FIELDS - {"change_note"}
    if unknown:
        raise TypeError(f"Unknown achievement fields: {sorted(unknown)}")
    check_badge_texts(fields)  # the text is signed into every award, and baked into SVGs
    for name, value in fields.items():
        setattr(version, name, value)
    if image is not None:
        version.image = issuer_services.store_image(
            institution=issuer.institution, data=image, badge=True
        )


def _audit(
    actor: User | None, version: AchievementVersion, action: AuditAction, client: str
) -> None:
    achievement = version.achievement
    target = str(achievement) if action == AuditAction.ACHIEVEMENT_CREATED else None
    issuer_services.record_audit(
        institution_id=achievement.issuer.institution_id,
        actor=actor,
        action=action,
        target=target or f"{achievement} v{version.number}",
        **({"client": client} if client else {}),
    )


def _require_editor(actor: User | None, issuer: Issuer) -> None:
    """Editors and owners; ``None`` is an API client its institution's owner granted
    ``achievements:write`` for this issuer (checked by the caller)."""
    if actor is not None:
        require_role(actor, issuer.institution, Role.EDITOR, issuer)


@transaction.atomic
def create_achievement(
    *,
    actor: User | None,
    issuer: Issuer,
    slug: str,
    image: bytes | None = None,
    client: str = "",
    **fields: Any,
) -> Achievement:
    """Create an achievement of ``issuer`` with a first draft version. Editors and owners."""
    _require_editor(actor, issuer)
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": _("This short name is reserved.")})
    if Achievement.objects.filter(issuer=issuer, slug=slug).exists():
        raise ValidationError({"slug": _("This issuer already has a micro-credential with it.")})
    achievement = Achievement(issuer=issuer, slug=slug)
    achievement.full_clean()
    achievement.save()
    version = AchievementVersion(achievement=achievement, number=1, created_by=actor)
    _set_content(version, fields, image, issuer)
    version.full_clean(exclude=["created_by"])  # none: an API client acting for itself
    version.save()
    _audit(actor, version, AuditAction.ACHIEVEMENT_CREATED, client)
    return achievement


@transaction.atomic
def save_draft(
    *,
    actor: User | None,
    achievement: Achievement,
    image: bytes | None = None,
    client: str = "",
    **fields: Any,
) -> AchievementVersion:
    """Change the achievement's draft; without a draft, start version n+1 from the latest
    published one (with its framework placement). A published version is never changed.
    Editors and owners."""
    _require_editor(actor, achievement.issuer)
    Achievement.objects.select_for_update().filter(pk=achievement.pk).first()
    version = badge_selectors.draft_of(achievement)
    started_from = None
    if version is None:
        latest = started_from = badge_selectors.latest_published(achievement)
        if latest is None:  # pragma: no cover - an achievement is created with a draft
            raise ValidationError(_("This micro-credential has no version to edit."))
        version = AchievementVersion(
            achievement=achievement,
            number=achievement.versions.count() + 1,
            created_by=actor,
            image=latest.image,
            **{name: getattr(latest, name) for name in EDITABLE_FIELDS},
        )
    _set_content(version, fields, image, achievement.issuer)
    version.full_clean(exclude=["created_by"])  # none: an API client acting for itself
    version.save()
    if started_from is not None:
        catalogue_services.copy_placement(source=started_from, target=version)
    _audit(actor, version, AuditAction.ACHIEVEMENT_DRAFT_SAVED, client)
    return version


def publish_problems(version: AchievementVersion) -> list[str]:
    """What stops ``version`` from being published, in words for the editor: incomplete text,
    and whatever the institution's micro-credential policies find."""
    problems = []
    if not version.languages():
        problems.append(
            _("Give a name, a description and criteria in English or in Chinese (or both).")
        )
    for suffix, label in (("en", _("English")), ("zh", _("Chinese"))):
        parts = [
            getattr(version, f"{f}_{suffix}").strip() for f in ("name", "description", "criteria")
        ]
        if any(parts) and not all(parts):
            problems.append(
                _("The %(language)s text needs a name, a description and criteria.")
                % {"language": label}
            )
    placement = catalogue_selectors.placement_of(version)
    problems.extend(policies.blocking_problems(version, placement))
    return problems


@transaction.atomic
def publish_version(
    *,
    actor: User | None,
    version: AchievementVersion,
    change_note: str | None = None,
    client: str = "",
) -> AchievementVersion:
    """Publish a draft: from now on it is frozen and can be awarded. Editors and owners."""
    achievement = version.achievement
    _require_editor(actor, achievement.issuer)
    version = AchievementVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(_("This version is already published; edit it to start a new one."))
    problems = publish_problems(version)
    if problems:
        raise ValidationError(problems)
    if change_note is not None:
        version.change_note = change_note
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at", "change_note", "updated_at"])
    _audit(actor, version, AuditAction.ACHIEVEMENT_PUBLISHED, client)
    return version
