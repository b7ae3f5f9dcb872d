"""Every write to institutions, issuers, memberships, invitations, signing keys and the audit
log. Each checks the actor's role first (``actor=None`` is a platform operator at the command
line).

About 490 lines: it holds every write of one app, and splitting it by aggregate
would spread the audit helper and the role rules over several files.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import create_user
from common.mail import send_templated_mail
from issuers import keys
from issuers.images import check_image
from issuers.models import (
    RESERVED_SLUGS,
    AuditAction,
    AuditEvent,
    Image,
    Institution,
    Invitation,
    Issuer,
    KeyStatus,
    Membership,
    Role,
    SigningKey,
)
from issuers.permissions import forget_roles, require_role
from openbadges import multikey
from openbadges.ob3 import normalize_email

INVITATION_LIFETIME = timedelta(days=14)

INSTITUTION_FIELDS = (
    "name_en",
    "name_zh",
    "country",
    "website",
    "brand_colour",
    "require_staff_totp",
)
ISSUER_FIELDS = (
    "name_en",
    "name_zh",
    "description_en",
    "description_zh",
    "url",
    "email",
    "linkedin_organization_id",
    "securing",
)


def record_audit(
    *,
    institution_id: int,
    actor: User | None,
    action: AuditAction,
    target: str,
    **data: Any,
) -> AuditEvent:
    """Append one row to the institution's audit log, in the caller's transaction."""
    return AuditEvent.objects.create(
        institution_id=institution_id, actor=actor, action=action, target=target[:200], data=data
    )


def record_audits(
    *,
    institution_id: int,
    actor: User | None,
    action: AuditAction,
    target: str,
    data: Sequence[dict[str, Any]],
) -> None:
    """Append one audit row per item of ``data`` at once (a bulk chunk of awards)."""
    AuditEvent.objects.bulk_create(
        AuditEvent(
            institution_id=institution_id,
            actor=actor,
            action=action,
            target=target[:200],
            data=item,
        )
        for item in data
    )


def _audit(
    *, institution: Institution, actor: User | None, action: AuditAction, target: str, **data: Any
) -> None:
    record_audit(institution_id=institution.pk, actor=actor, action=action, target=target, **data)


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
        forget_roles()
    _audit(institution=institution, actor=None, action=AuditAction.INSTITUTION_CREATED, target=slug)
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
    required_before = institution.require_staff_totp
    for name, value in fields.items():
        setattr(institution, name, value)
    if logo is not None:
        institution.logo = store_image(institution=institution, data=logo)
    institution.full_clean()
    institution.save()
    _audit(
        institution=institution,
        actor=actor,
        action=AuditAction.INSTITUTION_UPDATED,
        target=institution.slug,
        fields=sorted(fields) + (["logo"] if logo is not None else []),
    )
    if institution.require_staff_totp != required_before:
        _audit(
            institution=institution,
            actor=actor,
            action=(
                AuditAction.TWO_STEP_REQUIRED
                if institution.require_staff_totp
                else AuditAction.TWO_STEP_NOT_REQUIRED
            ),
            target=institution.slug,
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
    _audit(institution=institution, actor=actor, action=AuditAction.ISSUER_CREATED, target=slug)
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
        action=AuditAction.ISSUER_UPDATED,
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
        action=AuditAction.MEMBER_INVITED,
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
    forget_roles()
    _audit(
        institution=invitation.institution,
        actor=user,
        action=AuditAction.MEMBER_JOINED,
        target=user.email,
        role=invitation.role,
    )
    return membership


@transaction.atomic(durable=True)
def join_with_new_account(*, token: str, name: str, password: str) -> User:
    """Create the invitee's account (the invited address, this password) and accept the
    invitation with it, together: a refused password leaves neither."""
    invitation = find_invitation(token)
    if invitation is None:
        raise ValidationError(_("This invitation is no longer valid. Ask for a new one."))
    user = create_user(email=invitation.email, password=password, name=name)
    accept_invitation(token=token, user=user)
    return user


@transaction.atomic
def cancel_invitation(*, actor: User, invitation: Invitation) -> None:
    """Withdraw a pending invitation. Owners only."""
    require_role(actor, invitation.institution, Role.OWNER)
    invitation.cancelled_at = timezone.now()
    invitation.save(update_fields=["cancelled_at"])
    _audit(
        institution=invitation.institution,
        actor=actor,
        action=AuditAction.INVITATION_CANCELLED,
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
    forget_roles()
    _audit(
        institution=membership.institution,
        actor=actor,
        action=AuditAction.MEMBER_ROLE_CHANGED,
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
        action=AuditAction.MEMBER_REMOVED,
        target=membership.user.email,
        role=membership.role,
    )
    membership.delete()
    forget_roles()


def _new_key(issuer: Issuer) -> SigningKey:
    # Numbers are never reused, so a withdrawn key-2 can never be confused with a new one.
    number = SigningKey.objects.filter(issuer=issuer).count() + 1
    key_id = f"key-{number}"
    seed, public = multikey.generate_ed25519()
    return SigningKey.objects.create(
        issuer=issuer,
        key_id=key_id,
        public_key_multibase=multikey.public_multibase(public),
        encrypted_private_key=keys.encrypt_seed(seed, issuer_id=issuer.pk, key_id=key_id),
        status=KeyStatus.ACTIVE,
    )


def _audit_key(issuer: Issuer, actor: User | None, action: AuditAction, key: SigningKey) -> None:
    record_audit(
        institution_id=issuer.institution_id,
        actor=actor,
        action=action,
        target=f"{issuer.slug}#{key.key_id}",
        public_key=key.public_key_multibase,
    )


def active_key(issuer: Issuer) -> SigningKey:
    """The issuer's active key, created on first use (the KEK must be configured; raises
    ``issuers.keys.SigningUnavailable`` otherwise)."""
    keys.check_kek()
    # The common case reads without a lock (and without a savepoint), so parallel awards of
    # one issuer never queue on the issuer row; only creating the first key is serialised. A
    # key rotated meanwhile still verifies (a retired key stays in the DID document).
    key = SigningKey.objects.filter(issuer=issuer, status=KeyStatus.ACTIVE).first()
    return key if key is not None else _first_key(issuer)


@transaction.atomic
def _first_key(issuer: Issuer) -> SigningKey:
    Issuer.objects.select_for_update().filter(pk=issuer.pk).first()
    key = SigningKey.objects.filter(issuer=issuer, status=KeyStatus.ACTIVE).first()
    if key is None:
        key = _new_key(issuer)
        _audit_key(issuer, None, AuditAction.KEY_CREATED, key)
    return key


@transaction.atomic(durable=True)
def rotate_issuer_key(*, actor: User | None, issuer: Issuer) -> SigningKey:
    """Retire the issuer's active key and create a new one. Owners only. Credentials the old
    key signed keep verifying, because a retired key stays in the DID document."""
    if actor is not None:
        require_role(actor, issuer.institution, Role.OWNER, issuer)
    keys.check_kek()
    Issuer.objects.select_for_update().filter(pk=issuer.pk).first()
    SigningKey.objects.filter(issuer=issuer, status=KeyStatus.ACTIVE).update(
        status=KeyStatus.RETIRED, retired_at=timezone.now()
    )
    key = _new_key(issuer)
    _audit_key(issuer, actor, AuditAction.KEY_ROTATED, key)
    return key


@transaction.atomic(durable=True)
def withdraw_signing_key(*, actor: User | None, key: SigningKey) -> SigningKey:
    """Remove ``key`` from the DID document for good, e.g. after a compromise. Owners only.

    Every credential it signed stops verifying. If it was the active key, the next award
    creates a new one.
    """
    issuer = key.issuer
    if actor is not None:
        require_role(actor, issuer.institution, Role.OWNER, issuer)
    key = SigningKey.objects.select_for_update().get(pk=key.pk)
    if key.status == KeyStatus.WITHDRAWN:
        raise ValidationError(_("This key has already been withdrawn."))
    now = timezone.now()
    key.status = KeyStatus.WITHDRAWN
    key.withdrawn_at = now
    key.retired_at = key.retired_at or now
    key.save(update_fields=["status", "withdrawn_at", "retired_at"])
    _audit_key(issuer, actor, AuditAction.KEY_WITHDRAWN, key)
    return key
