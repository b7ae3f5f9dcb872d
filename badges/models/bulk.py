"""Bulk issuing: one uploaded file of awards and its rows (DESIGN.md §8)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from badges.models.achievements import AchievementVersion
from badges.models.awards import Award, IdentifierType
from issuers.models import Issuer


class DuplicateHandling(models.TextChoices):
    """What a bulk upload does with a learner who already holds an active award of it."""

    SKIP = "skip", _("Skip learners who already have this badge")
    REPLACE = "replace", _("Revoke the earlier badge and issue a new one")
    ALLOW = "allow", _("Issue another badge anyway")


class BatchState(models.TextChoices):
    DRAFT = "draft", _("Dry run")
    RUNNING = "running", _("Issuing")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class RowState(models.TextChoices):
    """``pending → signed → notified`` (DESIGN.md §8); the others are final."""

    PENDING = "pending", _("Waiting")
    SIGNED = "signed", _("Issued")
    NOTIFIED = "notified", _("Issued and e-mailed")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


class BulkBatch(models.Model):
    """One uploaded CSV/XLSX file of awards for one achievement version.

    Its rows are inserted in one transaction while it is a dry run; issuing moves the batch to
    ``running`` and Celery tasks move its rows ``pending → signed → notified`` in chunks.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="bulk_batches")
    achievement_version = models.ForeignKey(
        AchievementVersion, on_delete=models.PROTECT, related_name="bulk_batches"
    )
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    duplicates = models.CharField(
        _("learners who already have the badge"),
        max_length=10,
        choices=DuplicateHandling.choices,
        default=DuplicateHandling.SKIP,
    )
    notify = models.BooleanField(_("e-mail the learners"), default=True)
    state = models.CharField(max_length=10, choices=BatchState.choices, default=BatchState.DRAFT)
    total_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Touched after every chunk; the sweeper re-enqueues a running batch that went quiet.
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name or self.pk} ({self.state})"


class BulkRow(models.Model):
    """One row of an upload, as parsed and validated, and what became of it."""

    batch = models.ForeignKey(BulkBatch, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField()  # the spreadsheet's row number (header is row 1)
    email = models.CharField(max_length=254, blank=True)
    # An institutional identifier (``Award.recipient_identifier``), if the row gives one.
    identifier_type = models.CharField(max_length=20, blank=True)
    identifier = models.CharField(max_length=256, blank=True)
    name = models.CharField(max_length=200, blank=True)
    evidence_url = models.CharField(max_length=2000, blank=True)
    evidence_narrative = models.TextField(blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=10, blank=True)
    credits_earned = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    # [{"column": "email", "message": "…"}], in the uploader's language at upload time.
    errors = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=RowState.choices, default=RowState.PENDING)
    message = models.TextField(blank=True)
    award = models.OneToOneField(
        Award, on_delete=models.PROTECT, null=True, blank=True, related_name="bulk_row"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["batch", "number"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["batch", "number"], name="bulkrow_number")
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["batch", "state"], name="bulkrow_batch_state"),
            # A chunk claims the next pending rows in order: only those are read, however
            # many rows of the batch are already done.
            models.Index(
                fields=["batch", "number"],
                condition=models.Q(state="pending"),
                name="bulkrow_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} row {self.number}"

    @property
    def identifier_label(self) -> str:
        """The row's identifier with its kind ("Student number: 20261234"), or ""."""
        if self.identifier_type not in IdentifierType.values or not self.identifier:
            return ""
        return _("%(kind)s: %(value)s") % {
            "kind": IdentifierType(self.identifier_type).short_label,
            "value": self.identifier,
        }
