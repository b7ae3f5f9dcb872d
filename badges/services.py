"""Every write to achievements, their versions and awards. Each checks the actor's role.

Editors and owners create, edit and publish achievements; awarders (and above) award.
``actor=None`` is a platform operator at the command line (``manage.py award``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User, normalize_email
from badges import credentials, status
from badges.models import (
    CONTENT_FIELDS,
    Achievement,
    AchievementVersion,
    Award,
    AwardEvidence,
    VersionStatus,
)
from issuers import keys
from issuers.models import RESERVED_SLUGS, AuditEvent, Issuer, Role
from issuers.permissions import require_role
from issuers.services import store_image
from openbadges import ob3

EDITABLE_FIELDS = frozenset(CONTENT_FIELDS) - {"image"}


@dataclass(frozen=True)
class EvidenceItem:
    """One evidence item as the awarder gives it: a URL, a narrative, or both."""

    url: str = ""
    narrative: str = ""


def _audit(*, issuer: Issuer, actor: User | None, action: str, target: str, **data: Any) -> None:
    AuditEvent.objects.create(
        institution_id=issuer.institution_id, actor=actor, action=action, target=target, data=data
    )


def _set_content(
    version: AchievementVersion, fields: dict[str, Any], image: bytes | None, issuer: Issuer
) -> None:
    unknown = set(fields) - EDITABLE_FIELDS - {"change_note"}
    if unknown:
        raise TypeError(f"Unknown achievement fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(version, name, value)
    if image is not None:
        version.image = store_image(institution=issuer.institution, data=image, badge=True)


@transaction.atomic
def create_achievement(
    *, actor: User, issuer: Issuer, slug: str, image: bytes | None = None, **fields: Any
) -> Achievement:
    """Create an achievement of ``issuer`` with a first draft version. Editors and owners."""
    require_role(actor, issuer.institution, Role.EDITOR, issuer)
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": _("This short name is reserved.")})
    if Achievement.objects.filter(issuer=issuer, slug=slug).exists():
        raise ValidationError({"slug": _("This issuer already has a micro-credential with it.")})
    achievement = Achievement(issuer=issuer, slug=slug)
    achievement.full_clean()
    achievement.save()
    version = AchievementVersion(achievement=achievement, number=1, created_by=actor)
    _set_content(version, fields, image, issuer)
    version.full_clean()
    version.save()
    _audit(issuer=issuer, actor=actor, action="achievement.created", target=str(achievement))
    return achievement


def draft_of(achievement: Achievement) -> AchievementVersion | None:
    return achievement.versions.filter(status=VersionStatus.DRAFT).first()


def latest_published(achievement: Achievement) -> AchievementVersion | None:
    return achievement.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


@transaction.atomic
def save_draft(
    *, actor: User, achievement: Achievement, image: bytes | None = None, **fields: Any
) -> AchievementVersion:
    """Change the achievement's draft; without a draft, start version n+1 from the latest
    published one. A published version is never changed. Editors and owners."""
    require_role(actor, achievement.issuer.institution, Role.EDITOR, achievement.issuer)
    Achievement.objects.select_for_update().filter(pk=achievement.pk).first()
    version = draft_of(achievement)
    started_from = None
    if version is None:
        latest = started_from = latest_published(achievement)
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
    version.full_clean()
    version.save()
    if started_from is not None:  # issue #7: the new draft keeps its framework placement
        from frameworks.services import copy_placement

        copy_placement(source=started_from, target=version)
    _audit(
        issuer=achievement.issuer,
        actor=actor,
        action="achievement.draft_saved",
        target=f"{achievement} v{version.number}",
    )
    return version


def publish_problems(version: AchievementVersion) -> list[str]:
    """What stops ``version`` from being published, in words for the editor."""
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
    from frameworks.policies import blocking_problems  # issue #7: micro-credential policies

    problems.extend(blocking_problems(version))
    return problems


@transaction.atomic
def publish_version(
    *, actor: User, version: AchievementVersion, change_note: str | None = None
) -> AchievementVersion:
    """Publish a draft: from now on it is frozen and can be awarded. Editors and owners."""
    achievement = version.achievement
    require_role(actor, achievement.issuer.institution, Role.EDITOR, achievement.issuer)
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
    _audit(
        issuer=achievement.issuer,
        actor=actor,
        action="achievement.published",
        target=f"{achievement} v{version.number}",
    )
    return version


def _valid_until(
    version: AchievementVersion, valid_from: datetime, override: datetime | None
) -> datetime | None:
    if override is not None:
        if override <= valid_from:
            raise ValidationError({"valid_until": _("The expiry date must be in the future.")})
        return override
    if version.validity_days:
        return valid_from + timedelta(days=version.validity_days)
    return None


def _evidence(items: Sequence[EvidenceItem]) -> list[EvidenceItem]:
    kept = [
        EvidenceItem(url=item.url.strip(), narrative=item.narrative)
        for item in items
        if item.url.strip() or item.narrative.strip()
    ]
    check_url = URLValidator(schemes=["http", "https"])
    for item in kept:
        if item.url:
            try:
                check_url(item.url)
            except ValidationError:
                # An evidence id must be an absolute IRI (JSON-LD safe mode refuses others).
                raise ValidationError(
                    {"evidence": _("Evidence links must start with https:// or http://.")}
                ) from None
    return kept


@transaction.atomic
def award_badge(
    *,
    actor: User | None,
    version: AchievementVersion,
    email: str,
    name: str = "",
    evidence: Sequence[EvidenceItem] = (),
    narrative: str = "",
    valid_until: datetime | None = None,
    language: str | None = None,
    awarded_date: datetime | None = None,
    reissued_from: Award | None = None,
    result: str = "",
    notify: bool = True,
) -> Award:
    """Award ``version`` to the holder of ``email``: build, sign and store the credential.

    DESIGN.md §4: the credential is built from plain data (``openbadges.ob3``), signed with the
    issuer's active key (eddsa-rdfc-2022) and its exact text stored; it is never rebuilt.
    Awarders, editors and owners of the issuer. Raises ``ValidationError`` for bad input and
    ``issuers.keys.SigningUnavailable`` when nothing can be signed; either way nothing is stored.
    ``awarded_date`` and ``reissued_from`` are for ``badges.revocation.reissue_expired``: the
    new credential keeps the first award's ``awardedDate`` and links to it.
    Issue #8: ``result`` is the learner's result (OB 3.0 ``Result``) for the version's first
    result description; ``notify`` e-mails the learner after commit (``badges.notifications``).
    """
    achievement = version.achievement
    issuer = achievement.issuer
    if actor is not None:
        require_role(actor, issuer.institution, Role.AWARDER, issuer)
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError(_("Only a published version can be awarded."))
    from frameworks.services import check_award  # issue #7: policies apply to every award

    check_award(version)
    email = normalize_email(email)
    if not email:
        raise ValidationError({"email": _("Enter the learner's e-mail address.")})
    available = version.languages()
    language = credentials.language_of(language) if language else available[0]
    if language not in available:
        raise ValidationError(
            {"language": _("This version has no complete text in that language.")}
        )
    key = keys.active_key(issuer)  # fails closed without the key-encryption key
    award_id = uuid.uuid4()
    now = timezone.now().replace(microsecond=0)
    expires = _valid_until(version, now, valid_until)
    recipient = ob3.Recipient(email)
    items = _evidence(evidence)
    # Issue #6: the award's entries in the issuer's revocation and suspension lists, drawn at
    # random in this transaction; the credential carries the revocation entry (DESIGN.md §5).
    credential_status = status.allocate_entries(issuer=issuer, award_id=award_id)
    unsigned = ob3.build_credential(
        id=credentials.credential_url(award_id),
        issuer=credentials.issuer_profile(issuer, language),
        achievement=credentials.achievement(version, language),
        recipient=recipient,
        valid_from=now,
        valid_until=expires,
        awarded_date=awarded_date or now,
        evidence=[ob3.Evidence(id=i.url or None, narrative=i.narrative or None) for i in items],
        narrative=narrative or None,
        credential_status=credential_status,
    )
    if result:
        _add_result(unsigned, version, language, result)
    signed = keys.sign_credential(unsigned, key=key, created=now)
    award = Award.objects.create(
        id=award_id,
        issuer=issuer,
        achievement_version=version,
        signing_key=key,
        recipient_email=email,
        recipient_email_hash=ob3.identity_hash(email, recipient.salt),
        salt=recipient.salt,
        recipient_name=name.strip(),
        language=language,
        valid_from=now,
        valid_until=expires,
        awarded_at=awarded_date or now,
        awarded_by=actor,
        reissued_from=reissued_from,
        credential=signed,
        credential_json=json.dumps(signed, ensure_ascii=False, indent=2),
    )
    AwardEvidence.objects.bulk_create(
        AwardEvidence(award=award, position=n, url=i.url, narrative=i.narrative)
        for n, i in enumerate(items, start=1)
    )
    _audit(
        issuer=issuer,
        actor=actor,
        action="award.issued",
        target=f"{achievement} v{version.number}",
        award=str(award.pk),
    )
    # Issue #7: after commit, award any pathway this award completes (frameworks.pathways).
    transaction.on_commit(lambda: _complete_pathways(award.pk), robust=True)
    if notify:
        from badges import notifications

        notifications.queue_award_email(award=award)
    return award


def _complete_pathways(award_id: uuid.UUID) -> None:
    from frameworks.pathways import after_award

    after_award(award_id)


def _add_result(
    unsigned: dict[str, Any], version: AchievementVersion, language: str, result: str
) -> None:
    """Add the learner's OB 3.0 ``Result`` (in ``AchievementSubject.result``) for the
    version's first ``ResultDescription``; its allowed values, if any, are checked."""
    described = credentials.result_descriptions(version, language)
    if not described:
        raise ValidationError({"result": _("This micro-credential records no result.")})
    allowed = [str(v) for v in (version.result_descriptions[0].get("allowed_values") or [])]
    if allowed and result not in allowed:
        raise ValidationError(
            {"result": _("Use one of: %(values)s.") % {"values": ", ".join(allowed)}}
        )
    unsigned["credentialSubject"]["result"] = [
        {"type": ["Result"], "resultDescription": described[0].id, "value": result}
    ]
