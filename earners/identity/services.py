"""Every write of identity changes: a learner asks for a badge to be re-issued to another of
their verified addresses; a member of the issuing institution with the awarder role approves
or declines. On approval the badge is re-issued (a new signed credential) and the original
is marked superseded by it — not revoked — with the request as the audit record."""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from awarding.services import award_badge
from badges.models import Award
from badges.services import EvidenceItem
from earners import selectors
from earners.models import AwardPreference, ChangeStatus, IdentityChange, LearnerEmail
from issuers.models import Institution, Role
from issuers.permissions import require_role
from openbadges.ob3 import normalize_email


@transaction.atomic
def request_identity_change(
    *, user: User, award: Award, new_email: str, reason: str = ""
) -> IdentityChange:
    if not selectors.owns_award(user, award):
        raise PermissionDenied
    new_email = normalize_email(new_email)
    if not LearnerEmail.objects.filter(
        user=user, email=new_email, verified_at__isnull=False
    ).exists():
        raise ValidationError({"new_email": _("Choose one of your confirmed addresses.")})
    if new_email == award.recipient_email:
        raise ValidationError({"new_email": _("The badge was already sent to that address.")})
    if IdentityChange.objects.filter(award=award, status=ChangeStatus.PENDING).exists():
        raise ValidationError(_("A request for this badge is already waiting for the issuer."))
    return IdentityChange.objects.create(
        award=award, requested_by=user, new_email=new_email, reason=reason.strip()[:2000]
    )


@transaction.atomic
def decide_identity_change(
    *, actor: User, institution: Institution, change: IdentityChange, approve: bool
) -> IdentityChange:
    """Approve (re-issue, mark the original superseded) or decline a pending request."""
    change = (
        IdentityChange.objects.select_for_update().select_related("award__issuer").get(pk=change.pk)
    )
    original = change.award
    if original.issuer.institution_id != institution.pk:
        raise PermissionDenied
    require_role(actor, institution, Role.AWARDER, original.issuer)
    if change.status != ChangeStatus.PENDING:
        raise ValidationError(_("This request was already decided."))
    change.decided_at = timezone.now()
    change.decided_by = actor
    if not approve:
        change.status = ChangeStatus.REJECTED
        change.save()
        return change
    document = json.loads(original.credential_json)
    evidence = [
        EvidenceItem(url=item.url, narrative=item.narrative) for item in original.evidence.all()
    ]
    reissued = award_badge(
        actor=actor,
        version=original.achievement_version,
        email=change.new_email,
        # A student number or sign-in name stays with the badge: it names the same learner.
        identifier_type=original.recipient_identifier_type,
        identifier=original.recipient_identifier,
        name=original.recipient_name,
        evidence=evidence,
        narrative=str(document.get("credentialSubject", {}).get("narrative", "") or ""),
        valid_until=original.valid_until,
        language=original.language,
        awarded_date=original.awarded_at,
        notify=False,
        # Linked for the verify page's "superseded" warning; an award is re-issued only once.
        reissued_from=None if Award.objects.filter(reissued_from=original).exists() else original,
    )
    preference, _created = AwardPreference.objects.get_or_create(award=original)
    preference.superseded_by = reissued
    preference.save()
    AwardPreference.objects.create(
        award=reissued,
        user=preference.user or change.requested_by,
        visibility=preference.visibility,
        show_name=preference.show_name,
        include_evidence=preference.include_evidence,
    )
    change.status = ChangeStatus.APPROVED
    change.new_award = reissued
    change.save()
    return change
