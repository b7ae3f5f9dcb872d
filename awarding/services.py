"""Every write that issues awards: one, many, many idempotent by key, a pathway credential
when its requirements are met, and the re-issue of an expired award.

The award path, top to bottom (DESIGN.md §4): :func:`award_badges` checks the actor's role
once and the institution's policies (``frameworks``), turns each request into plain values
(``awarding.rules``), and ``badges.services.store_awards`` builds, signs and stores them in
this transaction; after commit, :func:`complete_pathways` awards any pathway credential they
complete and the learners' e-mails go out (``badges.notifications``). ``actor=None`` is a
platform operator at the command line, an API token whose issuer the caller checked, or the
platform itself completing a pathway.

Revoking, suspending and reinstating are in ``awarding.revocation.services``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from awarding import rules
from awarding.rules import AwardRequest
from badges import credentials
from badges import selectors as badge_selectors
from badges import services as badge_services
from badges.models import (
    AchievementVersion,
    Award,
    AwardStatus,
    IdempotentRequest,
    VersionStatus,
)
from badges.notifications import services as notifications
from badges.services import EvidenceItem, NewAward
from endorsements import selectors as endorsement_selectors
from events import services as event_services
from events.models import EventType
from frameworks.catalogue import export, policies
from frameworks.catalogue import selectors as catalogue_selectors
from frameworks.models import Pathway, PathwayCompletion
from frameworks.pathways import selectors as pathway_selectors
from frameworks.pathways import services as pathway_services
from issuers.models import Role
from issuers.permissions import has_role, require_role
from openbadges.ob3 import normalize_email

# --------------------------------------------------------------------------------------------
# Issuing
# --------------------------------------------------------------------------------------------


@transaction.atomic
def award_badges(
    *,
    actor: User | None,
    version: AchievementVersion,
    requests: Sequence[AwardRequest],
    notify: bool = True,
    client: str = "",
) -> list[Award | ValidationError]:
    """Award ``version`` to every request; for each, in order, its ``Award`` or the
    ``ValidationError`` that refused it (nothing is stored for that one; the others are).

    Awarders, editors and owners of the version's issuer. A problem with the version itself
    (not published, against the institution's policies) raises ``ValidationError``, and an
    unusable key ``issuers.keys.SigningUnavailable``; in both cases nothing is stored. A few
    queries for the whole batch, whatever its size (bulk issuing awards ``BULK_CHUNK`` rows at
    a time).
    """
    issuer = version.achievement.issuer
    if actor is not None:
        require_role(actor, issuer.institution, Role.AWARDER, issuer)
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError(_("Only a published version can be awarded."))
    placement = catalogue_selectors.placement_of(version)
    policies.check_award(version, placement)  # the policies may have changed since publishing
    now = timezone.now().replace(microsecond=0)
    credits_available = rules.credit_value(placement)
    languages = version.languages()
    outcomes: list[NewAward | ValidationError] = []
    for request in requests:
        try:
            checked = rules.check_request(
                request,
                version=version,
                languages=languages,
                now=now,
                credits_available=credits_available,
            )
        except ValidationError as error:
            outcomes.append(error)
        else:
            outcomes.append(checked)
    new = [o for o in outcomes if isinstance(o, NewAward)]
    if not new:
        return [o for o in outcomes if isinstance(o, ValidationError)]
    achievements = {
        language: credentials.achievement(
            version, language, export.framework_facts(placement, language)
        )
        for language in {n.language for n in new}
    }
    awards = badge_services.store_awards(
        actor=actor,
        version=version,
        achievements=achievements,
        awards=new,
        now=now,
        client=client,
        endorsements=endorsement_selectors.embedded_for(version),
    )
    award_ids = [award.pk for award in awards]
    transaction.on_commit(lambda: complete_pathways(award_ids=award_ids), robust=True)
    if notify:  # an award to an identifier only has no address to e-mail (nor claim link)
        notifications.queue_award_emails([a for a in awards if a.recipient_email])
    stored = iter(awards)
    return [next(stored) if isinstance(o, NewAward) else o for o in outcomes]


def award_badge(
    *,
    actor: User | None,
    version: AchievementVersion,
    email: str = "",
    identifier_type: str = "",
    identifier: str = "",
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
    """Award ``version`` to the holder of ``email``, of the institutional ``identifier``
    (``identifier_type``: ``studentId`` or ``sourcedId``), or both (:func:`award_badges` for
    one request).

    ``result`` is the learner's value for the version's first result description; ``notify``
    e-mails the learner after commit; ``credits_earned`` records partial credit (at most the
    version's credit value; equal to it, it is left out of the credential). Raises
    ``ValidationError`` for bad input and ``SigningUnavailable`` when nothing can be signed;
    either way nothing is stored.
    """
    request = AwardRequest(
        email=email,
        identifier_type=identifier_type,
        identifier=identifier,
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


def award_json(award: Award) -> dict[str, object]:
    """One award as the awarding API answers it (and stores it under an idempotency key)."""
    return {
        "id": str(award.pk),
        "credential": credentials.credential_url(award.pk),
        "email": award.recipient_email or None,
        **badge_services.identifier_json(award),
        "name": award.recipient_name,
        "language": award.language,
        "valid_until": award.valid_until.isoformat() if award.valid_until else None,
    }


@transaction.atomic(durable=True)
def award_many(
    *,
    actor: User | None,
    version: AchievementVersion,
    requests: Sequence[AwardRequest],
    idempotency_key: str = "",
    request_hash: str = "",
    client: str = "",
) -> tuple[int, dict[str, object]]:
    """Award ``version`` to every request, all or nothing; ``(HTTP status, body)``.

    With an ``idempotency_key``, the first request's answer is stored under a unique
    (issuer, key): the same key again returns that answer and awards nothing; the same key
    with a different body is refused (422).
    """
    issuer = version.achievement.issuer
    record: IdempotentRequest | None = None
    if idempotency_key:
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    issuer=issuer, key=idempotency_key[:200], request_hash=request_hash
                )
        except IntegrityError:  # a concurrent twin waited for the first one to commit
            existing = IdempotentRequest.objects.get(issuer=issuer, key=idempotency_key[:200])
            if existing.request_hash != request_hash:
                return 422, {"errors": [_("This Idempotency-Key was used for another request.")]}
            return existing.status_code, dict(existing.response)
    try:
        outcomes = award_badges(actor=actor, version=version, requests=requests, client=client)
    except ValidationError as error:  # the version itself cannot be awarded
        outcomes = [error] * len(requests)
    errors: list[dict[str, object]] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, ValidationError):
            detail = outcome.message_dict if hasattr(outcome, "error_dict") else outcome.messages
            errors.append({"index": index, "errors": detail})
    if errors:
        transaction.set_rollback(True)  # all or nothing; the key stays free for a retry
        return 400, {"errors": errors}
    body: dict[str, object] = {"awards": [award_json(a) for a in outcomes if isinstance(a, Award)]}
    if record is not None:
        record.response = body
        record.status_code = 201
        record.save(update_fields=["response", "status_code"])
    return 201, body


def complete_pathways(*, award_ids: Sequence[uuid.UUID]) -> list[PathwayCompletion]:
    """After new awards commit: award every pathway credential they complete. One query finds
    whether any active pathway counts their achievements (usually none)."""
    done: list[PathwayCompletion] = []
    for pathway, emails in pathway_selectors.pathways_to_complete(award_ids):
        for email in emails:
            completion = complete_pathway(pathway=pathway, email=email)
            if completion is not None:
                done.append(completion)
    return done


@transaction.atomic
def complete_pathway(*, pathway: Pathway, email: str) -> PathwayCompletion | None:
    """Award the pathway's achievement to ``email`` if its requirement tree is satisfied and
    it was not awarded before, and keep the stack as a signed CLR. Returns the completion,
    or ``None``."""
    pathway_services.lock_pathway(pathway)
    email = normalize_email(email)
    if pathway_selectors.completion_of(pathway, email) is not None:
        return None
    progress = pathway_selectors.evaluate(pathway, email)
    if not progress.met:
        return None
    version = badge_selectors.latest_published(pathway.target)
    if version is None:
        return None
    last = progress.counted[-1] if progress.counted else None
    award = award_badge(
        actor=None,
        version=version,
        email=email,
        name=last.recipient_name if last else "",
        language=last.language if last and last.language in version.languages() else None,
    )
    completion = pathway_services.record_completion(
        pathway=pathway, email=email, award=award, counted=progress.counted
    )
    event_services.emit(
        type=EventType.PATHWAY_COMPLETED,
        institution_id=pathway.institution_id,
        issuer_id=award.issuer_id,
        subject=str(completion.pk),
        data={
            "pathway_id": str(pathway.pk),
            "pathway_title": pathway.title_en,
            "completion_id": str(completion.pk),
            "recipient_email": email,
            "award_id": str(award.pk),
            "credential_id": credentials.credential_url(award.pk),
            "achievement_id": str(version.achievement_id),
            "counted_award_ids": [str(a.pk) for a in progress.counted],
        },
    )
    return completion


def is_expired(award: Award, now: datetime | None = None) -> bool:
    return award.valid_until is not None and award.valid_until <= (now or timezone.now())


@transaction.atomic
def reissue_expired(*, actor: User | None, award: Award, via: str = "console") -> Award:
    """Issue a new credential for an expired award: the latest text of the same version, a
    fresh validity period, the first award's ``awardedDate``, linked to the old award
    (``reissued_from``). Awarders, editors and owners. A revoked or suspended award, or one
    already re-issued, is refused."""
    award = badge_services.lock_award(award)
    if actor is not None and not has_role(
        actor, award.issuer.institution, Role.AWARDER, award.issuer
    ):
        raise PermissionDenied
    if not is_expired(award):
        raise ValidationError(_("Only an expired badge can be re-issued."))
    if award.status != AwardStatus.ACTIVE:
        raise ValidationError(_("A revoked or suspended badge cannot be re-issued."))
    if badge_selectors.is_reissued(award):
        raise ValidationError(_("This badge has already been re-issued."))
    subject = award.credential.get("credentialSubject", {})
    new = award_badge(
        actor=actor,
        version=award.achievement_version,
        email=award.recipient_email,
        identifier_type=award.recipient_identifier_type,
        identifier=award.recipient_identifier,
        name=award.recipient_name,
        evidence=[EvidenceItem(url=e.url, narrative=e.narrative) for e in award.evidence.all()],
        narrative=str(subject.get("narrative", "")),
        language=award.language,
        awarded_date=award.awarded_at,
        reissued_from=award,
    )
    badge_services.record_reissue(actor=actor, award=award, new=new, via=via)
    return new
