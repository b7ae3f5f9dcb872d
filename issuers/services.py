"""Every write to institutions, issuers and memberships. Each checks the actor's role first."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User, normalize_email
from insignia.mail import send_templated_mail
from issuers.images import check_image
from issuers.models import (
    RESERVED_SLUGS,
    AuditEvent,
    Image,
    Institution,
    Invitation,
    Issuer,
    Membership,
    Role,
)
from issuers.permissions import require_role

INVITATION_LIFETIME = timedelta(days=14)

INSTITUTION_FIELDS = ("name_en", "name_zh", "country", "website", "brand_colour")
ISSUER_FIELDS = (
    "name_en",
    "name_zh",
    "description_en",
    "description_zh",
    "url",
    "email",
    "linkedin_organization_id",
)


def _audit(
    *, institution: Institution, actor: User | None, action: str, target: str, **data: Any
) -> None:
    AuditEvent.objects.create(
        institution=institution, actor=actor, action=action, target=target, data=data
    )


def _check_slug(slug: str, model: type[Institution] | type[Issuer]) -> None:
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": _("This short name is reserved.")})
    if model.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("This short name is already taken.")})


def store_image(*, institution: Institution | None, data: bytes, badge: bool = False) -> Image:
    """Check an uploaded image (type, bytes, pixels) and store it; raises ``ValidationError``.

    ``badge``: a badge image, PNG or SVG (sanitized), see ``issuers.images.check_image``.
    """
    checked = check_image(data, badge=badge)
    return Image.objects.create(
        institution=institution,
        content_type=checked.content_type,
        data=checked.data,
        sha256=checked.sha256,
        width=checked.width,
        height=checked.height,
    )


@transaction.atomic
def create_institution(
    *,
    slug: str,
    name_en: str,
    name_zh: str = "",
    country: str = "",
    website: str = "",
    owner: User | None = None,
) -> Institution:
    """Create an institution (a platform operator's act) and make ``owner`` its owner."""
    _check_slug(slug, Institution)
    institution = Institution(
        slug=slug, name_en=name_en, name_zh=name_zh, country=country, website=website
    )
    institution.full_clean()
    institution.save()
    if owner is not None:
        Membership.objects.create(user=owner, institution=institution, role=Role.OWNER)
    _audit(institution=institution, actor=None, action="institution.created", target=slug)
    return institution


@transaction.atomic
def update_institution(
    *, actor: User, institution: Institution, logo: bytes | None = None, **fields: Any
) -> Institution:
    """Change an institution's settings. Owners only."""
    require_role(actor, institution, Role.OWNER)
    unknown = set(fields) - set(INSTITUTION_FIELDS)
    if unknown:
        raise TypeError(f"Unknown institution fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(institution, name, value)
    if logo is not None:
        institution.logo = store_image(institution=institution, data=logo)
    institution.full_clean()
    institution.save()
    _audit(
        institution=institution,
        actor=actor,
        action="institution.updated",
        target=institution.slug,
        fields=sorted(fields) + (["logo"] if logo is not None else []),
    )
    return institution


@transaction.atomic
def create_issuer(
    *,
    actor: User,
    institution: Institution,
    slug: str,
    image: bytes | None = None,
    **fields: Any,
) -> Issuer:
    """Create an issuer in ``institution``. Owners only."""
    require_role(actor, institution, Role.OWNER)
    unknown = set(fields) - set(ISSUER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown issuer fields: {sorted(unknown)}")
    _check_slug(slug, Issuer)
    issuer = Issuer(institution=institution, slug=slug, **fields)
    if image is not None:
        issuer.image = store_image(institution=institution, data=image)
    issuer.full_clean()
    issuer.save()
    _audit(institution=institution, actor=actor, action="issuer.created", target=slug)
    return issuer


@transaction.atomic
def update_issuer(
    *, actor: User, issuer: Issuer, image: bytes | None = None, **fields: Any
) -> Issuer:
    """Change an issuer's profile. Owners, and editors of the institution or the issuer."""
    require_role(actor, issuer.institution, Role.EDITOR, issuer)
    unknown = set(fields) - set(ISSUER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown issuer fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(issuer, name, value)
    if image is not None:
        issuer.image = store_image(institution=issuer.institution, data=image)
    issuer.full_clean()
    issuer.save()
    _audit(
        institution=issuer.institution,
        actor=actor,
        action="issuer.updated",
        target=issuer.slug,
        fields=sorted(fields) + (["image"] if image is not None else []),
    )
    return issuer


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invite_member(
    *,
    actor: User,
    institution: Institution,
    email: str,
    role: Role,
    issuer: Issuer | None = None,
    language: str = "en",
) -> Invitation:
    """Invite ``email`` to ``institution`` (or one of its issuers) with ``role``; sends the
    invitation e-mail after commit. Owners only."""
    require_role(actor, institution, Role.OWNER)
    if issuer is not None and issuer.institution_id != institution.pk:
        raise PermissionDenied
    email = normalize_email(email)
    existing = Membership.objects.filter(institution=institution, issuer=issuer, user__email=email)
    if existing.exists():
        raise ValidationError({"email": _("This person already has a role here.")})
    # A new invitation replaces an earlier pending one for the same person and scope.
    Invitation.objects.filter(
        institution=institution,
        issuer=issuer,
        email=email,
        accepted_at__isnull=True,
        cancelled_at__isnull=True,
    ).update(cancelled_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        institution=institution,
        issuer=issuer,
        email=email,
        role=role,
        language=language,
        token_hash=_token_hash(token),
        invited_by=actor,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    _audit(
        institution=institution,
        actor=actor,
        action="member.invited",
        target=email,
        role=role,
        issuer=issuer.slug if issuer else None,
    )
    context = {
        "invitation": invitation,
        "inviter": actor.display_name,
        "institution": institution,
        "issuer": issuer,
        "role_label": Role(role).label,
        "accept_path": reverse("manage:accept_invitation", args=[token]),
    }
    transaction.on_commit(
        lambda: send_templated_mail(
            to=email, template="invitation", context=context, language=language
        )
    )
    return invitation


def find_invitation(token: str) -> Invitation | None:
    """The pending, unexpired invitation for ``token``, or None."""
    return (
        Invitation.objects.select_related("institution", "issuer")
        .filter(
            token_hash=_token_hash(token),
            accepted_at__isnull=True,
            cancelled_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


@transaction.atomic
def accept_invitation(*, token: str, user: User) -> Membership:
    """Give ``user`` the invited role. The user's e-mail must be the invited address."""
    invitation = find_invitation(token)
    if invitation is None:
        raise ValidationError(_("This invitation is no longer valid. Ask for a new one."))
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation has already been used."))
    if normalize_email(user.email) != invitation.email:
        raise PermissionDenied(_("This invitation was sent to another e-mail address."))
    membership, _created = Membership.objects.update_or_create(
        user=user,
        institution=invitation.institution,
        issuer=invitation.issuer,
        defaults={"role": invitation.role},
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    _audit(
        institution=invitation.institution,
        actor=user,
        action="member.joined",
        target=user.email,
        role=invitation.role,
    )
    return membership


@transaction.atomic
def cancel_invitation(*, actor: User, invitation: Invitation) -> None:
    """Withdraw a pending invitation. Owners only."""
    require_role(actor, invitation.institution, Role.OWNER)
    invitation.cancelled_at = timezone.now()
    invitation.save(update_fields=["cancelled_at"])
    _audit(
        institution=invitation.institution,
        actor=actor,
        action="invitation.cancelled",
        target=invitation.email,
    )


def _other_owners_exist(membership: Membership) -> bool:
    return (
        Membership.objects.select_for_update()
        .filter(institution=membership.institution, issuer__isnull=True, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    )


def _is_institution_owner(membership: Membership) -> bool:
    return membership.issuer_id is None and membership.role == Role.OWNER


@transaction.atomic
def change_member_role(*, actor: User, membership: Membership, role: Role) -> Membership:
    """Change a member's role. Owners only; the last owner cannot be demoted."""
    require_role(actor, membership.institution, Role.OWNER)
    if (
        _is_institution_owner(membership)
        and role != Role.OWNER
        and not _other_owners_exist(membership)
    ):
        raise ValidationError(_("An institution needs at least one owner."))
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _audit(
        institution=membership.institution,
        actor=actor,
        action="member.role_changed",
        target=membership.user.email,
        previous=previous,
        role=role,
    )
    return membership


@transaction.atomic
def remove_member(*, actor: User, membership: Membership) -> None:
    """Remove a member's role. Owners only; the last owner cannot be removed."""
    require_role(actor, membership.institution, Role.OWNER)
    if _is_institution_owner(membership) and not _other_owners_exist(membership):
        raise ValidationError(_("An institution needs at least one owner."))
    _audit(
        institution=membership.institution,
        actor=actor,
        action="member.removed",
        target=membership.user.email,
        role=membership.role,
    )
    membership.delete()
