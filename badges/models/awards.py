"""Awards: one signed OB 3.0 credential each, its evidence and its status history.

An ``Award`` keeps the exact signed credential text it was issued with (DESIGN.md §4);
nothing rebuilds it. Its status changes only through ``badges.services.change_status``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from badges.models.achievements import AchievementVersion, Language
from issuers.models import Issuer, SigningKey


class AwardStatus(models.TextChoices):
    """Where an award stands with its issuer. Expiry is not a status: it follows from time."""

    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")


class IdentifierType(models.TextChoices):
    """Institutional identifiers an award can be made to (``openbadges.ob3.IDENTIFIER_TYPES``).
    Each is meaningful only within the institution that assigned it."""

    STUDENT_ID = "studentId", _("Student number")
    SOURCED_ID = "sourcedId", _("Institutional sign-in name (eduPersonPrincipalName)")

    @property
    def short_label(self) -> str:
        """The kind in a few words, for lists ("Student number")."""
        return str(_SHORT_LABELS[self])

    @property
    def field_name(self) -> str:
        """Its name in the REST API, the webhooks and the CSV upload (``student_id``)."""
        return _FIELD_NAMES[self]


_SHORT_LABELS = {
    IdentifierType.STUDENT_ID: _("Student number"),
    IdentifierType.SOURCED_ID: _("Sign-in name"),
}
_FIELD_NAMES = {IdentifierType.STUDENT_ID: "student_id", IdentifierType.SOURCED_ID: "sourced_id"}


class Award(models.Model):
    """One badge awarded to one learner: the signed OB 3.0 credential and its private facts.

    ``credential_json`` is the exact text that was signed and is served byte for byte; the
    ``credential`` property is that text parsed. (It is not stored a second time as JSONB:
    nothing queries inside it, and storing it twice made a bulk award cost half again as
    much.) ``recipient_email`` stays with the issuer (notifications, the learner's backpack)
    and never appears on a public page.

    An award is made to an e-mail address, to an institutional identifier
    (``recipient_identifier_type`` and the normalized ``recipient_identifier``: a student
    number or a sign-in name, meaningful only within the issuer's institution), or to both;
    the credential carries one hashed ``IdentityObject`` for each, with the same salt.
    ``recipient_email_hash`` is the first of them: the e-mail's, else the identifier's.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="awards")
    achievement_version = models.ForeignKey(
        AchievementVersion, on_delete=models.PROTECT, related_name="awards"
    )
    signing_key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="awards")
    recipient_email = models.EmailField(_("recipient e-mail"), blank=True)
    recipient_identifier_type = models.CharField(
        _("identifier type"), max_length=20, choices=IdentifierType.choices, blank=True
    )
    recipient_identifier = models.CharField(_("identifier"), max_length=256, blank=True)
    recipient_email_hash = models.CharField(max_length=100)
    salt = models.CharField(max_length=64)
    recipient_name = models.CharField(_("recipient name"), max_length=200, blank=True)
    language = models.CharField(max_length=10, choices=Language.choices, default=Language.EN)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    awarded_at = models.DateTimeField()
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    credential_json = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Revocation and suspension: the current status, changed only by
    # ``badges.services.set_status``; every change is also an ``AwardStatusEvent``.
    status = models.CharField(
        _("status"), max_length=10, choices=AwardStatus.choices, default=AwardStatus.ACTIVE
    )
    status_reason = models.TextField(_("reason"), blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    reissued_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reissued_as"
    )
    # When the learner accepted the badge from the link in the e-mail.
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    # Set on insert and by every change of status or claim (``badges.services``): the REST
    # API lists awards changed since a moment, paged by (updated_at, id).
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-awarded_at", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            # The backpack, claiming and duplicate checks find awards by address.
            models.Index(fields=["recipient_email"], name="award_recipient_email"),
            models.Index(fields=["updated_at", "id"], name="award_updated"),
            # The backpack and duplicate checks find awards by institutional identifier.
            models.Index(
                fields=["recipient_identifier_type", "recipient_identifier"],
                condition=~Q(recipient_identifier=""),
                name="award_recipient_identifier",
            ),
            # The console's awards list (``awarding.awards_list``): keyset pages by award date
            # or learner name, each filter with the date order behind it. Name search and
            # e-mail prefixes have PostgreSQL-only indexes of their own (migration 0012).
            models.Index(fields=["awarded_at", "id"], name="award_list_date"),
            models.Index(fields=["recipient_name", "id"], name="award_list_name"),
            models.Index(fields=["issuer", "awarded_at", "id"], name="award_list_issuer"),
            models.Index(
                fields=["achievement_version", "awarded_at", "id"], name="award_list_version"
            ),
            models.Index(
                fields=["status", "awarded_at", "id"],
                condition=~Q(status="active"),
                name="award_list_status",
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(claimed_at__isnull=False), name="award_claimed"
            ),
            models.Index(
                fields=["valid_until"], condition=Q(valid_until__isnull=False), name="award_expiry"
            ),
            # The awards list's "expired" filter: the few expired awards of an issuer, read
            # index-only and sorted (awarding.awards_list.APART_DATE).
            models.Index(
                fields=["issuer", "valid_until"],
                include=["awarded_at", "id"],
                condition=Q(status="active", valid_until__isnull=False),
                name="award_list_expired",
            ),
            models.Index(
                fields=["recipient_identifier"],
                condition=~Q(recipient_identifier=""),
                name="award_identifier_only",
            ),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # An award names its learner by e-mail, by identifier, or both.
            models.CheckConstraint(
                condition=~Q(recipient_email="") | ~Q(recipient_identifier=""),
                name="award_has_recipient",
            ),
            # An identifier always comes with its type, and a type with an identifier.
            models.CheckConstraint(
                condition=Q(recipient_identifier="", recipient_identifier_type="")
                | (~Q(recipient_identifier="") & ~Q(recipient_identifier_type="")),
                name="award_identifier_typed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.achievement_version} → {self.recipient_name or self.pk}"

    @property
    def recipient_label(self) -> str:
        """Who the award was made to, as staff see it: the e-mail address, else the
        identifier with its kind ("Student number: 20261234")."""
        if self.recipient_email:
            return self.recipient_email
        return self.identifier_label

    @property
    def identifier_label(self) -> str:
        """The institutional identifier with its kind, or "" when the award has none."""
        if not self.recipient_identifier:
            return ""
        return _("%(kind)s: %(value)s") % {
            "kind": IdentifierType(self.recipient_identifier_type).short_label,
            "value": self.recipient_identifier,
        }

    @property
    def credential(self) -> dict[str, Any]:
        """The signed credential, parsed from ``credential_json`` once per text."""
        cached = self.__dict__.get("_credential")
        if cached is None or cached[0] is not self.credential_json:
            cached = (self.credential_json, json.loads(self.credential_json))
            self.__dict__["_credential"] = cached
        document: dict[str, Any] = cached[1]
        return document


class AwardEvidence(models.Model):
    """One evidence item of an award, as given (OB 3.0 ``Evidence``: a URL and/or narrative)."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="evidence")
    position = models.PositiveSmallIntegerField()
    url = models.URLField(_("evidence link"), max_length=2000, blank=True)
    narrative = models.TextField(_("evidence narrative"), blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["award", "position"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["award", "position"], name="awardevidence_position")
        ]

    def __str__(self) -> str:
        return self.url or self.narrative[:50]


class StatusAction(models.TextChoices):
    REVOKED = "revoked", _("Revoked")
    SUSPENDED = "suspended", _("Suspended")
    REINSTATED = "reinstated", _("Reinstated")
    REISSUED = "reissued", _("Re-issued")


class AwardStatusEvent(models.Model):
    """Append-only history of an award's status: who, when, why, what.

    Rows are only ever inserted (``badges.services``); saving an existing row or deleting
    one raises, so the history cannot be rewritten through the ORM.
    """

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="status_events")
    action = models.CharField(max_length=12, choices=StatusAction.choices)
    reason = models.TextField(_("reason"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    via = models.CharField(max_length=20, blank=True)  # console, api, command, bulk
    batch = models.UUIDField(null=True, blank=True)
    notify_earner = models.BooleanField(default=False)
    at = models.DateTimeField()

    class Meta:
        ordering: ClassVar[list[str]] = ["award", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.award_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("AwardStatusEvent rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("AwardStatusEvent rows are append-only")
