"""Endorsements given by an issuer, and requests for them between institutions.

An :class:`Endorsement` is one signed OB 3.0 ``EndorsementCredential`` (its exact text kept,
never rebuilt) by an issuer of one institution, of an issuer or achievement on this platform
or of an OB 3.0 issuer profile or achievement elsewhere, named by URL. Its entry in the
endorser's revocation list is a ``badges.StatusEntry`` held by the endorsement's id: withdrawing
it sets that bit for good. An :class:`EndorsementRequest` asks another institution for one.
"""

from __future__ import annotations

import json
import uuid
from functools import cached_property
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from badges.models import Achievement
from common.text import validate_badge_text
from issuers.models import Institution, Issuer, SigningKey


class SubjectKind(models.TextChoices):
    ISSUER = "issuer", _("Issuer")
    ACHIEVEMENT = "achievement", _("Micro-credential")


class EndorsementStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Endorsement(models.Model):
    """One signed ``EndorsementCredential``, served at ``/endorsements/<id>``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endorser = models.ForeignKey(
        Issuer, on_delete=models.PROTECT, related_name="endorsements_given"
    )
    kind = models.CharField(max_length=12, choices=SubjectKind.choices)
    # What is endorsed: one of ours (one of these two), or a document elsewhere (neither).
    endorsed_issuer = models.ForeignKey(
        Issuer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="endorsements_received",
    )
    endorsed_achievement = models.ForeignKey(
        Achievement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="endorsements",
    )
    # ``credentialSubject.id``: an issuer's did:web, an achievement's URL, or the ``id`` of
    # the document fetched from ``subject_url``.
    subject_id = models.CharField(max_length=2048)
    subject_url = models.URLField(max_length=2048, blank=True)
    subject_name = models.CharField(max_length=300)
    comment = models.TextField(_("comment"), blank=True, validators=[validate_badge_text])
    language = models.CharField(max_length=10)
    credential_json = models.TextField()
    signing_key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=EndorsementStatus.choices, default=EndorsementStatus.ACTIVE
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["endorsed_issuer", "status"], name="endorsement_of_issuer"),
            models.Index(
                fields=["endorsed_achievement", "status"], name="endorsement_of_achievement"
            ),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["endorser", "subject_id"],
                condition=Q(status="active"),
                name="endorsement_once_per_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.endorser.slug} → {self.subject_name}"

    @cached_property
    def credential(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.credential_json)
        return parsed

    @property
    def is_active(self) -> bool:
        return self.status == EndorsementStatus.ACTIVE


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class EndorsementRequest(models.Model):
    """One institution asks another to endorse one of its issuers or achievements."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requester = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="endorsement_requests_sent"
    )
    recipient = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="endorsement_requests_received"
    )
    kind = models.CharField(max_length=12, choices=SubjectKind.choices)
    endorsed_issuer = models.ForeignKey(
        Issuer, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    endorsed_achievement = models.ForeignKey(
        Achievement, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message = models.TextField(_("message"), blank=True, validators=[validate_badge_text])
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    endorsement = models.ForeignKey(
        Endorsement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.requester.slug} → {self.recipient.slug} ({self.status})"

    @property
    def subject_name(self) -> str:
        if self.endorsed_issuer is not None:
            return self.endorsed_issuer.name
        if self.endorsed_achievement is not None:
            return str(self.endorsed_achievement)
        return ""
