"""Recognition of prior learning: staff cases, their verified evidence, append-only decisions
and published equivalence statements (research frameworks.md §10, §11)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from badges.models import Achievement
from frameworks.models.reference import CreditSystem, FrameworkLevel
from issuers.models import Institution


class RecognitionCase(models.Model):
    """Recognition of prior learning / credit transfer: a learner asks for credit or
    exemption for ``module`` on the strength of badges from any issuer (research §7, §9.6)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="recognition_cases"
    )
    learner_email = models.EmailField(_("learner's e-mail address"))
    learner_name = models.CharField(_("learner's name"), max_length=200, blank=True)
    module = models.ForeignKey(
        Achievement,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("local micro-credential or module"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    # Stored review flag: a granted decision's evidence stopped verifying (revoked, suspended,
    # expired, invalid) at a later check; cleared by a new decision or a review that keeps it.
    needs_review = models.BooleanField(default=False, db_index=True)
    review_flagged_at = models.DateTimeField(null=True, blank=True)
    review_verdict = models.CharField(max_length=20, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    review_note = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.learner_email} → {self.module}"


class CaseEvidence(models.Model):
    """A badge offered as evidence, with what the verify pipeline said about it."""

    case = models.ForeignKey(RecognitionCase, on_delete=models.CASCADE, related_name="evidence")
    source_url = models.URLField(max_length=2000, blank=True)
    credential_text = models.TextField(blank=True)
    verdict = models.CharField(max_length=20)
    report = models.JSONField(default=dict)
    checked_at = models.DateTimeField()
    # Set when a later check no longer finds the evidence valid (e.g. it was revoked).
    flagged_at = models.DateTimeField(null=True, blank=True)
    later_verdict = models.CharField(max_length=20, blank=True)
    # The latest re-check (by staff or the periodic task) and what it said.
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_verdict = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["case", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.verdict}"


class RecognitionDecision(models.Model):
    """The assessor's decision; append-only (an appeal or correction is a new row)."""

    class Outcome(models.TextChoices):
        CREDIT = "credit", _("Grant credit")
        EXEMPTION = "exemption", _("Grant exemption")
        DECLINED = "declined", _("Decline")

    case = models.ForeignKey(RecognitionCase, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(_("decision"), max_length=10, choices=Outcome.choices)
    credits = models.DecimalField(
        _("credits granted"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    credit_system = models.ForeignKey(
        CreditSystem, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rationale = models.TextField(_("rationale"))
    evidence_verdicts = models.JSONField(default=dict, blank=True)
    equivalence = models.ForeignKey(
        "EquivalenceStatement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        verbose_name=_("equivalence statement applied"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar[list[str]] = ["case", "decided_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("RecognitionDecision rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("RecognitionDecision rows are append-only")


class EquivalenceStatement(models.Model):
    """A receiving institution's published statement that an external credential or training
    is equivalent to a local achievement (exemption) and/or credits at a level, in the shape
    of NZQA's register of equivalency: title, organisation, level, credit value (research
    frameworks.md §1.5, §9.5). NZQA's own service closed in 2025, so institutions issue them;
    ``authority`` records who issued one that is being re-published (e.g. "NZQA").

    Only drafts change; a published statement can only be withdrawn (decisions that applied
    it keep their reference, §10 "Equivalence statements")."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="equivalence_statements"
    )
    provider_name = models.CharField(_("provider or organisation"), max_length=255)
    title = models.CharField(_("title of the external credential or training"), max_length=500)
    issuer_id = models.CharField(
        _("issuer id in its badges (URL or DID)"), max_length=2048, blank=True
    )
    achievement_id = models.CharField(
        _("achievement or BadgeClass id in its badges"), max_length=2048, blank=True
    )
    link = models.URLField(_("link to a description"), max_length=2048, blank=True)
    authority = models.CharField(
        _("originally stated by (if not your institution)"), max_length=255, blank=True
    )
    local_achievement = models.ForeignKey(
        Achievement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("equivalent local micro-credential or module (exemption)"),
    )
    level = models.ForeignKey(
        FrameworkLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("level"),
    )
    credit_system = models.ForeignKey(
        CreditSystem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("credit system"),
    )
    credits = models.DecimalField(
        _("credits"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    rationale = models.TextField(_("rationale"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["provider_name", "title"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="equivalence_valid_dates",
            ),
            models.CheckConstraint(
                condition=Q(credits__isnull=True) | Q(credits__gt=0),
                name="equivalence_credits_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_name}: {self.title}"

    def is_current(self, on: datetime.date | None = None) -> bool:
        """Published and valid on ``on`` (today if not given)."""
        day = on or timezone.localdate()
        return (
            self.status == self.Status.PUBLISHED
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )
