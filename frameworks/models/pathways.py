"""Stackable pathways: a requirement tree leading to a pathway achievement, and each
learner's completion with its signed CLR (research frameworks.md §9)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from badges.models import Achievement, Award, AwardStatus
from frameworks.models.reference import CreditSystem, FrameworkLevel
from issuers.models import Institution, badge_text, localized


class Pathway(models.Model):
    """A stack of micro-credentials leading to a pathway achievement (research §9.4)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="pathways")
    # The title is the description of the pathway's signed CLR: nothing XML cannot carry.
    title_en = models.CharField(_("title (English)"), max_length=200, validators=badge_text)
    title_zh = models.CharField(
        _("title (Chinese)"), max_length=200, blank=True, validators=badge_text
    )
    target = models.ForeignKey(
        Achievement, on_delete=models.PROTECT, related_name="+", verbose_name=_("awards")
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["institution", "title_en"]

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> str:
        return localized(self, "title")


class RequirementGroup(models.Model):
    """A node of the requirement tree: all of / at least N of / at least X credits (at a
    level of at least L) of its children and requirements."""

    class Rule(models.TextChoices):
        ALL = "all", _("All of")
        AT_LEAST_N = "at_least_n", _("At least N of")
        MIN_CREDITS = "min_credits", _("At least X credits")

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="groups")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    position = models.PositiveSmallIntegerField(default=0)
    rule = models.CharField(max_length=12, choices=Rule.choices)
    required_count = models.PositiveSmallIntegerField(null=True, blank=True)
    min_credits = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    credit_system = models.ForeignKey(
        CreditSystem, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    min_level = models.ForeignKey(
        FrameworkLevel, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["pathway", "position", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["pathway"], condition=Q(parent__isnull=True), name="pathway_one_root"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pathway} {self.rule}"


class Requirement(models.Model):
    """A leaf: an award of ``achievement`` (any published version) by the learner."""

    group = models.ForeignKey(
        RequirementGroup, on_delete=models.CASCADE, related_name="requirements"
    )
    achievement = models.ForeignKey(Achievement, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar[list[str]] = ["group", "position", "pk"]

    def __str__(self) -> str:
        return str(self.achievement)


class PathwayCompletion(models.Model):
    """A learner (by e-mail within the institution) completed a pathway and was awarded its
    achievement; ``counted`` are the awards that satisfied the tree. ``clr_json`` is the
    signed CLR 2.0 ``ClrCredential`` of the stack, served as it was signed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="completions")
    recipient_email = models.EmailField()
    award = models.OneToOneField(Award, on_delete=models.PROTECT, related_name="pathway_completion")
    counted = models.ManyToManyField(Award, related_name="counted_in")
    clr = models.JSONField(default=dict)
    clr_json = models.TextField(blank=True)
    completed_at = models.DateTimeField()
    # Set in the transaction that revokes or suspends a counted award (``awarding.services``
    # calls :func:`frameworks.pathways.services.flag_counted_awards`); cleared on review.
    needs_review = models.BooleanField(default=False, db_index=True)
    review_flagged_at = models.DateTimeField(null=True, blank=True)
    review_award = models.ForeignKey(
        Award, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    review_action = models.CharField(max_length=10, blank=True)  # revoked | suspended
    review_reason = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    review_outcome = models.CharField(max_length=10, blank=True)  # kept | revoked
    review_note = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-completed_at"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["pathway", "recipient_email"], name="pathway_completion_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pathway} → {self.award_id}"

    def revoked_counted(self) -> list[Award]:
        """Counted awards no longer active: the completion is flagged for review."""
        return [a for a in self.counted.all() if a.status != AwardStatus.ACTIVE]
