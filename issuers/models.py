"""Institutions, their issuers, the people who work for them, and what those people did.

Content a person reads is stored once per language (``*_en``, ``*_zh``); ``localized`` picks
the active language's value and falls back to the other one.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from common.text import validate_badge_text

RESERVED_SLUGS = frozenset(
    {"login", "logout", "password", "invitations", "account", "admin", "static", "api", "new"}
)

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1–50 lower-case letters, digits and hyphens, not starting or ending with a hyphen."),
)
linkedin_id_validator = RegexValidator(
    r"^[0-9]{1,20}$", _("Enter the LinkedIn organisation ID: digits only, e.g. 1337.")
)
# Text that ends up in credentials and baked SVGs: nothing XML 1.0 cannot carry (common.text).
badge_text = [validate_badge_text]
colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a colour as # followed by six hex digits, e.g. #1f4e79.")
)


def localized(obj: object, field: str) -> str:
    """The ``field`` of ``obj`` in the active language (``field_zh`` or ``field_en``)."""
    language = translation.get_language() or "en"
    first, second = ("zh", "en") if language.startswith("zh") else ("en", "zh")
    value = getattr(obj, f"{field}_{first}", "") or getattr(obj, f"{field}_{second}", "")
    return str(value)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    EDITOR = "editor", _("Editor")
    AWARDER = "awarder", _("Awarder")
    VIEWER = "viewer", _("Viewer")


# Each role can do everything the roles below it can.
ROLE_RANK: dict[str, int] = {Role.VIEWER: 1, Role.AWARDER: 2, Role.EDITOR: 3, Role.OWNER: 4}


class Image(models.Model):
    """An uploaded image, kept in the database so the web tier stays stateless."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(
        "Institution", on_delete=models.CASCADE, related_name="images", null=True
    )
    content_type = models.CharField(max_length=50)
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.content_type} {self.width}×{self.height}"

    @property
    def extension(self) -> str:
        return {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg"}.get(
            self.content_type, "bin"
        )


class Institution(models.Model):
    slug = models.SlugField(
        _("short name"), max_length=50, unique=True, validators=[slug_validator]
    )
    name_en = models.CharField(_("name (English)"), max_length=200, validators=badge_text)
    name_zh = models.CharField(
        _("name (Chinese)"), max_length=200, blank=True, validators=badge_text
    )
    country = CountryField(_("country"), blank=True)
    website = models.URLField(_("website"), blank=True, validators=badge_text)
    logo = models.ForeignKey(
        Image, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    brand_colour = models.CharField(
        _("brand colour"), max_length=7, default="#1f4e79", validators=[colour_validator]
    )
    # Members without an authenticator are sent to set one up before this institution's
    # console pages (``issuers.console``).
    require_staff_totp = models.BooleanField(_("require two-step sign-in for staff"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["name_en"]

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return localized(self, "name")


class Securing(models.TextChoices):
    """How an issuer's credentials are secured when they are served or downloaded. The
    stored award is always signed with Data Integrity; a VC-JWT is made from it on request."""

    DATA_INTEGRITY = "data-integrity", _("Data Integrity proof (eddsa-rdfc-2022), as JSON")
    VC_JWT = "vc-jwt", _("VC-JWT (a signed JSON Web Token, EdDSA)")


class Issuer(models.Model):
    """An issuing body of an institution (a faculty, a school, a programme office).

    Its slug is global because it is part of the issuer's did:web identifier.
    """

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="issuers")
    slug = models.SlugField(
        _("short name"), max_length=50, unique=True, validators=[slug_validator]
    )
    name_en = models.CharField(_("name (English)"), max_length=200, validators=badge_text)
    name_zh = models.CharField(
        _("name (Chinese)"), max_length=200, blank=True, validators=badge_text
    )
    description_en = models.TextField(_("description (English)"), blank=True, validators=badge_text)
    description_zh = models.TextField(_("description (Chinese)"), blank=True, validators=badge_text)
    url = models.URLField(_("web page"), validators=badge_text)
    email = models.EmailField(_("contact e-mail"), validators=badge_text)
    image = models.ForeignKey(
        Image, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # LinkedIn "Add to profile" names the issuing organisation by this id (so LinkedIn shows
    # its logo); without it, by name.
    linkedin_organization_id = models.CharField(
        _("LinkedIn organisation ID"), max_length=20, blank=True, validators=[linkedin_id_validator]
    )
    # What the badge page offers for download and ``/credentials/<id>`` answers to a wallet
    # that takes either (``sharing.views``); both forms are always available by URL.
    securing = models.CharField(
        _("credential format"),
        max_length=20,
        choices=Securing.choices,
        default=Securing.DATA_INTEGRITY,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["name_en"]

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def description(self) -> str:
        return localized(self, "description")


class Membership(models.Model):
    """A person's role in an institution (``issuer`` empty) or in one of its issuers."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="memberships"
    )
    issuer = models.ForeignKey(
        Issuer, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["user", "institution"],
                condition=Q(issuer__isnull=True),
                name="membership_one_institution_role",
            ),
            models.UniqueConstraint(
                fields=["user", "issuer"],
                condition=Q(issuer__isnull=False),
                name="membership_one_issuer_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.issuer or self.institution}"


class Invitation(models.Model):
    """An e-mailed invitation to join with a role; only a hash of its token is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="invitations"
    )
    issuer = models.ForeignKey(
        Issuer, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    language = models.CharField(max_length=10, default="en")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.role} @ {self.issuer or self.institution}"


class AuditAction(models.TextChoices):
    """Every action the audit log records, with the label the activity page shows.

    One vocabulary for every app: a write passes one of these to
    ``issuers.services.record_audit`` (the column keeps the value, e.g. ``award.issued``)."""

    INSTITUTION_CREATED = "institution.created", _("Institution created")
    INSTITUTION_UPDATED = "institution.updated", _("Settings changed")
    ISSUER_CREATED = "issuer.created", _("Issuer created")
    ISSUER_UPDATED = "issuer.updated", _("Issuer changed")
    MEMBER_INVITED = "member.invited", _("Member invited")
    MEMBER_JOINED = "member.joined", _("Member joined")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Role changed")
    MEMBER_REMOVED = "member.removed", _("Member removed")
    INVITATION_CANCELLED = "invitation.cancelled", _("Invitation withdrawn")
    KEY_CREATED = "key.created", _("Signing key created")
    KEY_ROTATED = "key.rotated", _("Signing key rotated")
    KEY_WITHDRAWN = "key.withdrawn", _("Signing key withdrawn")
    ACHIEVEMENT_CREATED = "achievement.created", _("Micro-credential created")
    ACHIEVEMENT_DRAFT_SAVED = "achievement.draft_saved", _("Micro-credential draft saved")
    ACHIEVEMENT_PUBLISHED = "achievement.published", _("Micro-credential version published")
    AWARD_ISSUED = "award.issued", _("Badge awarded")
    AWARD_REVOKED = "award.revoked", _("Badge revoked")
    AWARD_SUSPENDED = "award.suspended", _("Badge suspended")
    AWARD_REINSTATED = "award.reinstated", _("Badge reinstated")
    AWARD_REISSUED = "award.reissued", _("Badge re-issued")
    BULK_UPLOADED = "bulk.uploaded", _("Bulk upload checked")
    BULK_STARTED = "bulk.started", _("Bulk award started")
    BULK_CANCELLED = "bulk.cancelled", _("Bulk award cancelled")
    BULK_RETRIED = "bulk.retried", _("Failed rows retried")
    PLACEMENT_SAVED = "placement.saved", _("Framework placement saved")
    POLICIES_CHOSEN = "policies.chosen", _("Micro-credential policies chosen")
    COMPETENCIES_IMPORTED = "competencies.imported", _("Competency framework imported")
    COMPETENCY_FRAMEWORK_CREATED = "competency_framework.created", _("Competency framework created")
    COMPETENCY_FRAMEWORK_UPDATED = "competency_framework.updated", _("Competency framework changed")
    COMPETENCY_ITEM_ADDED = "competency_item.added", _("Competency added")
    COMPETENCY_ITEM_UPDATED = "competency_item.updated", _("Competency changed")
    COMPETENCY_ITEM_MOVED = "competency_item.moved", _("Competency moved")
    COMPETENCY_ITEM_RETIRED = "competency_item.retired", _("Competency retired")
    COMPETENCY_ITEM_REINSTATED = "competency_item.reinstated", _("Competency reinstated")
    COMPETENCY_ITEM_DELETED = "competency_item.deleted", _("Competency deleted")
    PATHWAY_CREATED = "pathway.created", _("Pathway created")
    PATHWAY_UPDATED = "pathway.updated", _("Pathway changed")
    PATHWAY_ACTIVATED = "pathway.activated", _("Pathway reactivated")
    PATHWAY_DEACTIVATED = "pathway.deactivated", _("Pathway deactivated")
    PATHWAY_FLAGGED = "pathway.flagged", _("Pathway completion flagged for review")
    PATHWAY_REVIEW_KEPT = "pathway.review_kept", _("Pathway credential kept after review")
    PATHWAY_REVIEW_REVOKED = "pathway.review_revoked", _("Pathway credential revoked after review")
    RECOGNITION_OPENED = "recognition.opened", _("Recognition case opened")
    RECOGNITION_EVIDENCE_ADDED = (
        "recognition.evidence_added",
        _("Badge added to a recognition case"),
    )
    RECOGNITION_CREDIT = "recognition.credit", _("Credit granted")
    RECOGNITION_EXEMPTION = "recognition.exemption", _("Exemption granted")
    RECOGNITION_DECLINED = "recognition.declined", _("Recognition declined")
    RECOGNITION_FLAGGED = "recognition.flagged", _("Recognition decision flagged for review")
    RECOGNITION_REVIEWED = "recognition.reviewed", _("Recognition decision reviewed")
    EQUIVALENCE_CREATED = "equivalence.created", _("Equivalence statement drafted")
    EQUIVALENCE_UPDATED = "equivalence.updated", _("Equivalence statement changed")
    EQUIVALENCE_PUBLISHED = "equivalence.published", _("Equivalence statement published")
    EQUIVALENCE_WITHDRAWN = "equivalence.withdrawn", _("Equivalence statement withdrawn")
    API_TOKEN_CREATED = "api_token.created", _("API token created")
    API_TOKEN_REVOKED = "api_token.revoked", _("API token revoked")
    WEBHOOK_CREATED = "webhook.created", _("Webhook endpoint added")
    WEBHOOK_UPDATED = "webhook.updated", _("Webhook endpoint changed")
    WEBHOOK_DELETED = "webhook.deleted", _("Webhook endpoint deleted")
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated", _("Webhook signing secret rotated")
    WEBHOOK_ENABLED = "webhook.enabled", _("Webhook endpoint enabled")
    WEBHOOK_DISABLED = "webhook.disabled", _("Webhook endpoint disabled")
    WEBHOOK_REDELIVERED = "webhook.redelivered", _("Webhook event sent again")
    WEBHOOK_TESTED = "webhook.tested", _("Webhook test event sent")
    API_CLIENT_CREATED = "api_client.created", _("API client registered")
    API_CLIENT_REVOKED = "api_client.revoked", _("API client revoked")
    STAFF_TOKEN_CREATED = "staff_token.created", _("Personal API token created")
    STAFF_TOKEN_REVOKED = "staff_token.revoked", _("Personal API token revoked")
    TWO_STEP_REQUIRED = "two_step.required", _("Two-step sign-in required for staff")
    TWO_STEP_NOT_REQUIRED = "two_step.not_required", _("Two-step sign-in no longer required")
    SIGNON_CONFIGURED = "signon.configured", _("Campus sign-on set up")
    SIGNON_CHANGED = "signon.changed", _("Campus sign-on changed")
    SIGNON_REMOVED = "signon.removed", _("Campus sign-on removed")
    SIGNON_KEY_ROTATED = "signon.key_rotated", _("Campus sign-on certificate rotated")
    MEMBER_JOINED_VIA_SIGNON = "member.joined_signon", _("Member joined through campus sign-on")
    LTI_PLATFORM_REGISTERED = "lti.registered", _("Course platform (LTI) registered")
    LTI_PLATFORM_CHANGED = "lti.changed", _("Course platform (LTI) changed")
    LTI_PLATFORM_REMOVED = "lti.removed", _("Course platform (LTI) removed")
    LTI_BADGE_PLACED = "lti.placed", _("Badge placed in a course")
    LTI_REVIEW_KEPT = "lti.review_kept", _("Course award kept after a grade change")
    LTI_REVIEW_REVOKED = "lti.review_revoked", _("Course award revoked after a grade change")
    ENDORSEMENT_GIVEN = "endorsement.given", _("Endorsement given")
    ENDORSEMENT_WITHDRAWN = "endorsement.withdrawn", _("Endorsement withdrawn")
    ENDORSEMENT_REQUESTED = "endorsement.requested", _("Endorsement requested")
    ENDORSEMENT_DECLINED = "endorsement.declined", _("Endorsement request declined")


class AuditEvent(models.Model):
    """Append-only record of who changed what in an institution, and when."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=50, choices=AuditAction.choices)
    target = models.CharField(max_length=200)
    data = models.JSONField(default=dict)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target}"

    @property
    def label(self) -> str:
        return self.get_action_display()


class KeyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class SigningKey(models.Model):
    """An issuer's Ed25519 signing key (DESIGN.md §5, §9).

    The private seed is stored only as AES-GCM ciphertext under the key-encryption key
    (``issuers.keys``); the associated data binds it to this issuer and ``key_id``, so a
    ciphertext copied to another row does not decrypt. Active and retired keys are listed in
    the issuer's DID document; a withdrawn key is not, so what it signed no longer verifies.
    """

    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="signing_keys")
    key_id = models.CharField(max_length=20)
    public_key_multibase = models.CharField(max_length=64, unique=True)
    encrypted_private_key = models.BinaryField()
    status = models.CharField(max_length=10, choices=KeyStatus.choices, default=KeyStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["issuer", "created_at", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["issuer", "key_id"], name="signingkey_key_id_per_issuer"
            ),
            models.UniqueConstraint(
                fields=["issuer"],
                condition=Q(status="active"),
                name="signingkey_one_active_per_issuer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer.slug}#{self.key_id} ({self.status})"
