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
from decimal import Decimal
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
from insignia.db import insert_many
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


@dataclass(frozen=True)
class AwardRequest:
    """One award of a version to one learner, as the awarder (form, CSV row, API) gives it.

    ``awarded_date`` and ``reissued_from`` are for ``badges.revocation.reissue_expired``: the
    new credential keeps the first award's ``awardedDate`` and links to it.
    """

    email: str
    name: str = ""
    evidence: tuple[EvidenceItem, ...] = ()
    narrative: str = ""
    valid_until: datetime | None = None
    result: str = ""
    language: str = ""
    awarded_date: datetime | None = None
    reissued_from: Award | None = None
    credits_earned: Decimal | None = None


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
    credits_earned: Decimal | None = None,
) -> Award:
    """Award ``version`` to the holder of ``email``: build, sign and store the credential.

    DESIGN.md §4: the credential is built from plain data (``openbadges.ob3``), signed with the
    issuer's active key (eddsa-rdfc-2022) and its exact text stored; it is never rebuilt.
    Awarders, editors and owners of the issuer. Raises ``ValidationError`` for bad input and
    ``issuers.keys.SigningUnavailable`` when nothing can be signed; either way nothing is stored.
    Issue #8: ``result`` is the learner's result (OB 3.0 ``Result``) for the version's first
    result description; ``notify`` e-mails the learner after commit (``badges.notifications``).
    Issue #7: ``credits_earned`` records partial credit (``creditsEarned``), at most the
    version's credit value; equal to it, it is left out of the credential.
    """
    request = AwardRequest(
        email=email,
        name=name,
        evidence=tuple(evidence),
        narrative=narrative,
        valid_until=valid_until,
        result=result,
        language=language or "",
        awarded_date=awarded_date,
        reissued_from=reissued_from,
        credits_earned=credits_earned,
    )
    (outcome,) = award_badges(actor=actor, version=version, requests=[request], notify=notify)
    if isinstance(outcome, ValidationError):
        raise outcome
    return outcome


@dataclass
class _Checked:
    """A request that passed its checks, with everything its credential needs."""

    request: AwardRequest
    award_id: uuid.UUID
    email: str
    language: str
    valid_until: datetime | None
    evidence: list[EvidenceItem]
    credits_earned: float | None


def credits_earned_value(earned: Decimal | None, available: float | None) -> float | None:
    """``creditsEarned`` for the credential: None when not given or equal to the credit value;
    refused when the version has no credit value or it is outside 0 … the credit value."""
    if earned is None:
        return None
    if available is None:
        raise ValidationError(
            {"credits_earned": _("This micro-credential has no credit value to earn part of.")}
        )
    if not earned.is_finite() or earned < 0 or earned > Decimal(str(available)):
        raise ValidationError(
            {
                "credits_earned": _("Credits earned must be between 0 and %(credits)s.")
                % {"credits": f"{available:g}"}
            }
        )
    if earned != earned.quantize(Decimal("0.01")):
        raise ValidationError(
            {"credits_earned": _("Give credits earned with at most two decimals.")}
        )
    return None if earned == Decimal(str(available)) else float(earned)


def _check_request(
    request: AwardRequest,
    version: AchievementVersion,
    available: list[str],
    now: datetime,
    credit_value: float | None,
) -> _Checked:
    email = normalize_email(request.email)
    if not email:
        raise ValidationError({"email": _("Enter the learner's e-mail address.")})
    language = credentials.language_of(request.language) if request.language else available[0]
    if language not in available:
        raise ValidationError(
            {"language": _("This version has no complete text in that language.")}
        )
    if request.result:
        _check_result(version, request.result)
    return _Checked(
        request=request,
        award_id=uuid.uuid4(),
        email=email,
        language=language,
        valid_until=_valid_until(version, now, request.valid_until),
        evidence=_evidence(request.evidence),
        credits_earned=credits_earned_value(request.credits_earned, credit_value),
    )


@transaction.atomic
def award_badges(
    *,
    actor: User | None,
    version: AchievementVersion,
    requests: Sequence[AwardRequest],
    notify: bool = True,
) -> list[Award | ValidationError]:
    """Award ``version`` to every request at once: :func:`award_badge` for a whole chunk.

    The same checks and the same credential as one award at a time, with a few queries for
    the whole batch instead of ~20 per award (issue #8: 10,000 awards in ≤ 30 s): the key is
    decrypted once, the issuer and achievement are built once per language, the status
    entries are drawn together (``status.allocate_many``) and the rows are inserted in bulk.
    Returns, for each request in order, its ``Award`` or the ``ValidationError`` that refused
    it (nothing is stored for that one; the others are). A problem with the version itself
    (not published, against a policy) raises ``ValidationError``; an unusable key raises
    ``SigningUnavailable``; in both cases nothing is stored.
    """
    achievement = version.achievement
    issuer = achievement.issuer
    if actor is not None:
        require_role(actor, issuer.institution, Role.AWARDER, issuer)
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError(_("Only a published version can be awarded."))
    from frameworks.services import check_award  # issue #7: policies apply to every award

    check_award(version)
    available = version.languages()
    now = timezone.now().replace(microsecond=0)
    profiles: dict[str, ob3.Profile] = {}
    described: dict[str, ob3.Achievement] = {}
    credit_value: float | None = None
    if any(r.credits_earned is not None for r in requests) and available:
        described[available[0]] = credentials.achievement(version, available[0])
        credit_value = described[available[0]].credits_available
    outcomes: list[Award | ValidationError | None] = []  # None: awarded below
    checked: list[_Checked] = []
    for request in requests:
        try:
            item = _check_request(request, version, available, now, credit_value)
        except ValidationError as error:
            outcomes.append(error)
            continue
        checked.append(item)
        outcomes.append(None)
    if not checked:
        return [o for o in outcomes if o is not None]
    key = keys.active_key(issuer)  # fails closed without the key-encryption key
    sign = keys.signer(key)
    # Issue #6: each award's entries in the issuer's revocation and suspension lists, drawn at
    # random in this transaction; the credential carries the revocation entry (DESIGN.md §5).
    entries = status.allocate_many(issuer=issuer, award_ids=[c.award_id for c in checked])
    result_id = credentials.result_description_id(credentials.version_url(version), 1)
    awards: list[Award] = []
    for item in checked:
        request, language = item.request, item.language
        if language not in profiles:
            profiles[language] = credentials.issuer_profile(issuer, language)
        if language not in described:
            described[language] = credentials.achievement(version, language)
        recipient = ob3.Recipient(item.email)
        unsigned = ob3.build_credential(
            id=credentials.credential_url(item.award_id),
            issuer=profiles[language],
            achievement=described[language],
            recipient=recipient,
            valid_from=now,
            valid_until=item.valid_until,
            awarded_date=request.awarded_date or now,
            evidence=[
                ob3.Evidence(id=i.url or None, narrative=i.narrative or None) for i in item.evidence
            ],
            narrative=request.narrative or None,
            credential_status=entries[item.award_id],
            credits_earned=item.credits_earned,
        )
        if request.result:
            _add_result(unsigned, result_id, request.result)
        signed = sign(unsigned, now)
        awards.append(
            Award(
                id=item.award_id,
                issuer=issuer,
                achievement_version=version,
                signing_key=key,
                recipient_email=item.email,
                recipient_email_hash=ob3.identity_hash(item.email, recipient.salt),
                salt=recipient.salt,
                recipient_name=request.name.strip(),
                language=language,
                valid_from=now,
                valid_until=item.valid_until,
                awarded_at=request.awarded_date or now,
                awarded_by=actor,
                reissued_from=request.reissued_from,
                # Compact: the exact text served, baked and hashed; pretty-printing it cost
                # 6 % of a bulk award (json's indent mode is pure Python).
                credential_json=json.dumps(signed, ensure_ascii=False, separators=(",", ":")),
            )
        )
    insert_many(awards)  # not bulk_create: see insignia.db.insert_many
    AwardEvidence.objects.bulk_create(
        AwardEvidence(award=award, position=n, url=i.url, narrative=i.narrative)
        for award, item in zip(awards, checked, strict=True)
        for n, i in enumerate(item.evidence, start=1)
    )
    target = f"{achievement} v{version.number}"
    AuditEvent.objects.bulk_create(
        AuditEvent(
            institution_id=issuer.institution_id,
            actor=actor,
            action="award.issued",
            target=target,
            data={"award": str(award.pk)},
        )
        for award in awards
    )
    # Issue #7: after commit, award any pathway these awards complete (frameworks.pathways).
    award_ids = [award.pk for award in awards]
    transaction.on_commit(lambda: _complete_pathways(award_ids), robust=True)
    if notify:
        from badges import notifications

        notifications.queue_award_emails(awards)
    stored = iter(awards)
    return [next(stored) if o is None else o for o in outcomes]


def _complete_pathways(award_ids: list[uuid.UUID]) -> None:
    from frameworks.pathways import after_awards

    after_awards(award_ids)


def _check_result(version: AchievementVersion, result: str) -> None:
    if not version.result_descriptions:
        raise ValidationError({"result": _("This micro-credential records no result.")})
    allowed = [str(v) for v in (version.result_descriptions[0].get("allowed_values") or [])]
    if allowed and result not in allowed:
        raise ValidationError(
            {"result": _("Use one of: %(values)s.") % {"values": ", ".join(allowed)}}
        )


def _add_result(unsigned: dict[str, Any], result_id: str, result: str) -> None:
    """Add the learner's OB 3.0 ``Result`` (in ``AchievementSubject.result``) for the
    version's first ``ResultDescription`` (``result_id``; checked by ``_check_result``)."""
    unsigned["credentialSubject"]["result"] = [
        {"type": ["Result"], "resultDescription": result_id, "value": result}
    ]
