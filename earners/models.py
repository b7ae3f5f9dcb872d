"""The learner's side: verified e-mail addresses, per-badge privacy, collections
shared by link, and anonymous view counts.

A learner is an ``accounts.User`` without any staff membership. Awards reach a learner's
backpack when their ``recipient_email`` equals one of the learner's *verified* addresses, or
their ``recipient_identifier`` one of the learner's ``InstitutionalIdentity`` values of the
issuer's institution, or when the channel that made them handed them over (``HeldAward``: an
LMS launch of the very learner a course awarded); none of these is on a public page.

View counts keep no IP address, no user agent and no time finer than the day: only which
badge or collection, the day, the channel and — when a verifier chose to name it — the
verifying organisation.
"""

from __future__ import annotations

import secrets
import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from badges.models import Award, IdentifierType
from issuers.models import Institution


class LearnerEmail(models.Model):
    """One e-mail address of a learner; only a verified address brings awards in."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learner_emails"
    )
    email = models.EmailField(_("e-mail address"))
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["user", "created_at", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["user", "email"], name="learneremail_per_user"),
            # An address belongs to at most one learner once proven.
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(verified_at__isnull=False),
                name="learneremail_verified_once",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class InstitutionalIdentity(models.Model):
    """An identifier an institution vouched for when its learner signed in through it
    (``signon``): a student number or a sign-in name, proven like a confirmed address.

    Awards the institution made to that identifier (``Award.recipient_identifier``) reach
    this learner's backpack. An identifier means something only within its institution, so
    one institution's identity provider can never bring in another institution's awards.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="institutional_identities"
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="learner_identities"
    )
    identity_type = models.CharField(
        _("identifier type"), max_length=20, choices=IdentifierType.choices
    )
    value = models.CharField(_("identifier"), max_length=256)
    # Which sign-in proved it, for the learner's account page ("SAML", "OpenID Connect").
    verified_via = models.CharField(max_length=20)
    verified_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar[list[str]] = ["user", "institution", "identity_type"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # One person per identifier in an institution.
            models.UniqueConstraint(
                fields=["institution", "identity_type", "value"],
                name="institutionalidentity_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identity_type} {self.value} @ {self.institution_id}"


class HeldAward(models.Model):
    """An award handed to a learner by the channel that made it, without an address or
    identifier to match: a course (``lti``) awarded it to the LMS user who then launched the
    course and took it into their backpack. The platform's signed launch is the proof, as a
    confirmed address is for an e-mail award. One holder per award."""

    award = models.OneToOneField(Award, on_delete=models.CASCADE, related_name="holder")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="held_awards"
    )
    via = models.CharField(max_length=40)
    held_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.award_id} held by {self.user_id}"


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public: listed on my profile, found by search engines")
    LINK = "link", _("Private: only people I give the link to")


class AwardPreference(models.Model):
    """How the learner wants one award shown. Defaults protect the learner: link-only,
    no name, no evidence."""

    award = models.OneToOneField(Award, on_delete=models.CASCADE, related_name="preference")
    # Kept when the learner deletes their account: the badge page stays as they left it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="award_preferences",
    )
    visibility = models.CharField(
        _("who can see it"), max_length=10, choices=Visibility.choices, default=Visibility.LINK
    )
    show_name = models.BooleanField(_("show my name"), default=False)
    include_evidence = models.BooleanField(_("show the evidence"), default=False)
    # Identity change: set when the issuer re-issued this award to another of
    # the learner's addresses; the original is superseded, not revoked.
    superseded_by = models.ForeignKey(
        Award, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.award_id}: {self.visibility}"


def _profile_slug() -> str:
    return secrets.token_hex(12)


class LearnerProfile(models.Model):
    """The learner's public profile page: off unless they turn it on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learner_profile"
    )
    public = models.BooleanField(_("publish a profile page"), default=False)
    slug = models.CharField(max_length=32, unique=True, default=_profile_slug)
    display_name = models.CharField(_("name on the profile"), max_length=150, blank=True)

    def __str__(self) -> str:
        return self.slug


def _collection_token() -> str:
    return secrets.token_urlsafe(24)


class Collection(models.Model):
    """A named set of the learner's badges, shown to whoever has its secret link."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections"
    )
    name = models.CharField(_("name"), max_length=150)
    token = models.CharField(max_length=64, unique=True, default=_collection_token)
    awards = models.ManyToManyField(Award, related_name="+", blank=True)
    expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class Channel(models.TextChoices):
    DIRECT = "direct", _("Direct link")
    LINKEDIN = "linkedin", _("LinkedIn")
    QR = "qr", _("QR code")
    EMBED = "embed", _("Embedded badge")
    API = "api", _("API / machine")
    COLLECTION = "collection", _("Shared collection")


class Kind(models.TextChoices):
    VIEW = "view", _("View")
    VERIFICATION = "verification", _("Verification")


class ViewEvent(models.Model):
    """One anonymous view or verification: one INSERT per event, aggregated on read."""

    award = models.ForeignKey(
        Award, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    day = models.DateField()
    channel = models.CharField(max_length=12, choices=Channel.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.VIEW)
    # Only what a verifier typed to identify itself; never derived from the request.
    organisation = models.CharField(max_length=120, blank=True)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["award", "day"], name="viewevent_award_day"),
            models.Index(fields=["collection", "day"], name="viewevent_collection_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.channel}"


class ImportSource(models.TextChoices):
    URL = "url", _("Link")
    JSON = "json", _("Pasted JSON")
    IMAGE = "image", _("Baked image")


class ImportedBadge(models.Model):
    """A badge from another issuer that the learner keeps beside ours, with the verify
    pipeline's verdict; re-checked periodically (``earners.tasks.recheck_imports``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imported_badges"
    )
    source = models.CharField(max_length=10, choices=ImportSource.choices)
    source_url = models.URLField(max_length=2000, blank=True)
    text = models.TextField(blank=True)
    upload = models.BinaryField(null=True, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=300, blank=True)
    issuer_name = models.CharField(max_length=300, blank=True)
    format = models.CharField(max_length=30, blank=True)
    verdict = models.CharField(max_length=20)
    headline = models.CharField(max_length=300, blank=True)
    report = models.JSONField(default=dict)
    checked_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "pk"]

    def __str__(self) -> str:
        return self.name or str(self.pk)


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the issuer")
    APPROVED = "approved", _("Approved: re-issued")
    REJECTED = "rejected", _("Declined")


class IdentityChange(models.Model):
    """A learner's request to have a badge re-issued to another of their verified addresses.
    Approved by the issuer; the original is then superseded, not revoked, and
    this row is the auditable link between the two."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    new_email = models.EmailField()
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(
        max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    new_award = models.OneToOneField(
        Award, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["-requested_at", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["award"],
                condition=Q(status="pending"),
                name="identitychange_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.award_id} → {self.status}"
