"""Every write of endorsements: give one (sign an ``EndorsementCredential``), withdraw it,
and ask another institution for one, accept or decline such a request.

Only an owner of the whole institution acts for it. Giving signs with the endorsing issuer's
active key exactly as an award is signed (``issuers.keys.signer``, eddsa-rdfc-2022) and gives
the credential its own entry in the issuer's revocation list
(``badges.statuslists.services.allocate_for_holder``); withdrawing sets that bit for good, and
the list is signed again after commit as it is for a revoked award.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from badges import credentials
from badges import selectors as badge_selectors
from badges.models import Achievement
from badges.statuslists import services as statuslist_services
from common.text import validate_badge_text
from endorsements.external import ExternalSubject
from endorsements.models import (
    Endorsement,
    EndorsementRequest,
    EndorsementStatus,
    RequestStatus,
    SubjectKind,
)
from issuers import keys
from issuers import services as issuer_services
from issuers.models import AuditAction, Institution, Issuer, Role
from issuers.permissions import require_role
from openbadges import endorsement as ob3_endorsement

COMMENT_MAX = 2000


@dataclass(frozen=True)
class Subject:
    """What is endorsed: one of this platform's issuers or achievements, or a document
    elsewhere (``endorsements.external.fetch_subject``). Exactly one is given."""

    issuer: Issuer | None = None
    achievement: Achievement | None = None
    external: ExternalSubject | None = None


def endorsement_url(endorsement_id: uuid.UUID) -> str:
    """The endorsement credential's ``id``: ``/endorsements/<uuid>`` on the public origin."""
    return credentials.absolute(reverse("endorsement_credential", args=[endorsement_id]))


def _described(subject: Subject, language: str) -> tuple[SubjectKind, str, str]:
    """(kind, ``credentialSubject.id``, name) of ``subject``."""
    if subject.issuer is not None:
        return (
            SubjectKind.ISSUER,
            keys.issuer_did(subject.issuer),
            credentials.issuer_profile(subject.issuer, language).name,
        )
    if subject.achievement is not None:
        version = badge_selectors.latest_published(subject.achievement)
        if version is None:
            raise ValidationError(_("Only a published micro-credential can be endorsed."))
        url = credentials.absolute(reverse("achievement", args=[subject.achievement.pk]))
        return SubjectKind.ACHIEVEMENT, url, version.text("name", language)
    if subject.external is not None:
        return subject.external.kind, subject.external.subject_id, subject.external.name
    raise ValidationError(_("Choose what to endorse."))


def _checked_text(text: str, field: str) -> str:
    """``text`` trimmed, if a badge can carry it (it travels inside credentials, which are
    baked into SVG too: ``common.text``) and it is not too long; else ``ValidationError``."""
    text = text.strip()
    if len(text) > COMMENT_MAX:
        raise ValidationError({field: _("At most %(n)s characters.") % {"n": COMMENT_MAX}})
    try:
        validate_badge_text(text)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None
    return text


def _owner_of(subject: Subject) -> Institution | None:
    if subject.issuer is not None:
        return subject.issuer.institution
    if subject.achievement is not None:
        return subject.achievement.issuer.institution
    return None


@transaction.atomic
def endorse(
    *,
    actor: User | None,
    endorser: Issuer,
    subject: Subject,
    comment: str,
    language: str,
) -> Endorsement:
    """Sign and store an ``EndorsementCredential`` of ``subject`` by ``endorser``, in
    ``language`` (``en`` or ``zh-Hans``: the credential's name and the endorser's profile);
    one audit row. Owners of the endorser's institution only (``PermissionDenied``); an
    institution does not endorse itself, nor the same subject twice while the first is
    active (``ValidationError``). Raises ``issuers.keys.SigningUnavailable`` when the key
    cannot sign."""
    if actor is not None:
        require_role(actor, endorser.institution, Role.OWNER)
    comment = _checked_text(comment, "comment")
    owner = _owner_of(subject)
    if owner is not None and owner.pk == endorser.institution_id:
        raise ValidationError(_("An institution cannot endorse its own issuers or achievements."))
    language = credentials.language_of(language)
    kind, subject_id, name = _described(subject, language)
    if Endorsement.objects.filter(
        endorser=endorser, subject_id=subject_id, status=EndorsementStatus.ACTIVE
    ).exists():
        raise ValidationError(_("This issuer already endorses it."))
    now = timezone.now().replace(microsecond=0)
    key = issuer_services.active_key(endorser)
    sign = keys.signer(key)
    endorsement_id = uuid.uuid4()
    entry = statuslist_services.allocate_for_holder(issuer=endorser, holder=endorsement_id)
    with translation.override(language):
        title = _("Endorsement of %(name)s") % {"name": name}
    unsigned = ob3_endorsement.build_endorsement(
        id=endorsement_url(endorsement_id),
        issuer=credentials.issuer_profile(endorser, language),
        subject_id=subject_id,
        name=title[:300],
        comment=comment or None,
        valid_from=now,
        credential_status=entry,
    )
    signed = sign(unsigned, now)
    created = Endorsement.objects.create(
        id=endorsement_id,
        endorser=endorser,
        kind=kind,
        endorsed_issuer=subject.issuer,
        endorsed_achievement=subject.achievement,
        subject_id=subject_id,
        subject_url=subject.external.url if subject.external else "",
        subject_name=name[:300],
        comment=comment,
        language=language,
        credential_json=json.dumps(signed, ensure_ascii=False, separators=(",", ":")),
        signing_key=key,
        created_by=actor,
        created_at=now,
    )
    issuer_services.record_audit(
        institution_id=endorser.institution_id,
        actor=actor,
        action=AuditAction.ENDORSEMENT_GIVEN,
        target=name,
        endorsement=str(created.pk),
        endorser=endorser.slug,
        subject=subject_id,
    )
    return created


@transaction.atomic
def withdraw_endorsement(*, actor: User | None, endorsement: Endorsement) -> Endorsement:
    """Withdraw an active endorsement for good: its bit in the endorser's revocation list is
    set (the list is signed again after commit), it leaves the endorsed pages and new
    credentials; one audit row. Owners of the endorser's institution only."""
    endorsement = (
        Endorsement.objects.select_for_update(of=("self",))
        .select_related("endorser")
        .get(pk=endorsement.pk)
    )
    if actor is not None:
        require_role(actor, endorsement.endorser.institution, Role.OWNER)
    if endorsement.status == EndorsementStatus.WITHDRAWN:
        return endorsement
    now = timezone.now()
    endorsement.status = EndorsementStatus.WITHDRAWN
    endorsement.withdrawn_at = now
    endorsement.save(update_fields=["status", "withdrawn_at"])
    statuslist_services.set_holder_bit(endorsement.pk, at=now)
    issuer_services.record_audit(
        institution_id=endorsement.endorser.institution_id,
        actor=actor,
        action=AuditAction.ENDORSEMENT_WITHDRAWN,
        target=endorsement.subject_name,
        endorsement=str(endorsement.pk),
    )
    return endorsement


@transaction.atomic
def request_endorsement(
    *,
    actor: User,
    requester: Institution,
    recipient: Institution,
    subject: Subject,
    message: str,
) -> EndorsementRequest:
    """Ask ``recipient`` to endorse one of ``requester``'s issuers or achievements, with a
    message; one audit row. Owners of ``requester`` only; one pending request per subject
    and recipient."""
    require_role(actor, requester, Role.OWNER)
    if recipient.pk == requester.pk:
        raise ValidationError({"recipient": _("Ask another institution.")})
    if subject.external is not None or _owner_of(subject) != requester:
        raise ValidationError(_("Ask for an endorsement of your own issuers or achievements."))
    message = _checked_text(message, "message")
    pending = EndorsementRequest.objects.filter(
        requester=requester,
        recipient=recipient,
        endorsed_issuer=subject.issuer,
        endorsed_achievement=subject.achievement,
        status=RequestStatus.PENDING,
    )
    if pending.exists():
        raise ValidationError(_("You have already asked them; the request is waiting."))
    created = EndorsementRequest.objects.create(
        requester=requester,
        recipient=recipient,
        kind=SubjectKind.ISSUER if subject.issuer is not None else SubjectKind.ACHIEVEMENT,
        endorsed_issuer=subject.issuer,
        endorsed_achievement=subject.achievement,
        message=message,
        requested_by=actor,
        created_at=timezone.now(),
    )
    issuer_services.record_audit(
        institution_id=requester.pk,
        actor=actor,
        action=AuditAction.ENDORSEMENT_REQUESTED,
        target=recipient.name_en,
        request=str(created.pk),
    )
    return created


def _pending(request: EndorsementRequest) -> EndorsementRequest:
    locked = (
        EndorsementRequest.objects.select_for_update(of=("self",))
        .select_related("requester", "recipient", "endorsed_issuer__institution")
        .select_related("endorsed_achievement__issuer__institution")
        .get(pk=request.pk)
    )
    if locked.status != RequestStatus.PENDING:
        raise ValidationError(_("This request has already been answered."))
    return locked


@transaction.atomic
def accept_request(
    *,
    actor: User,
    request: EndorsementRequest,
    endorser: Issuer,
    comment: str,
    language: str,
) -> Endorsement:
    """Answer a request with an endorsement signed by ``endorser`` (an issuer of the
    institution asked), with ``comment`` as the owner edited it. Owners of the institution
    asked only."""
    request = _pending(request)
    require_role(actor, request.recipient, Role.OWNER)
    if endorser.institution_id != request.recipient_id:
        raise ValidationError({"endorser": _("Choose one of your issuers.")})
    endorsement = endorse(
        actor=actor,
        endorser=endorser,
        subject=Subject(issuer=request.endorsed_issuer, achievement=request.endorsed_achievement),
        comment=comment,
        language=language,
    )
    request.status = RequestStatus.ACCEPTED
    request.decided_at = timezone.now()
    request.decided_by = actor
    request.endorsement = endorsement
    request.save(update_fields=["status", "decided_at", "decided_by", "endorsement"])
    return endorsement


@transaction.atomic
def decline_request(*, actor: User, request: EndorsementRequest) -> EndorsementRequest:
    """Decline a request; one audit row. Owners of the institution asked only."""
    request = _pending(request)
    require_role(actor, request.recipient, Role.OWNER)
    request.status = RequestStatus.DECLINED
    request.decided_at = timezone.now()
    request.decided_by = actor
    request.save(update_fields=["status", "decided_at", "decided_by"])
    issuer_services.record_audit(
        institution_id=request.recipient_id,
        actor=actor,
        action=AuditAction.ENDORSEMENT_DECLINED,
        target=request.requester.name_en,
        request=str(request.pk),
    )
    return request
