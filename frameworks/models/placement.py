"""Where an achievement version sits: levels, credit values, notional hours, the EU Annex I
elements and competency alignments. Frozen with the version once it is published."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from badges.models import AchievementVersion
from frameworks.models.reference import (
    CompetencyItem,
    CreditConversion,
    CreditSystem,
    FrameworkLevel,
)


class AssessmentType(models.TextChoices):
    """EU Annex I "type of assessment"."""

    TESTING = "testing", _("Testing")
    SKILL_APPLICATION = "skill_application", _("Application of a skill")
    PORTFOLIO = "portfolio", _("Portfolio")
    RPL = "rpl", _("Recognition of prior learning")
    OTHER = "other", _("Other")


class Participation(models.TextChoices):
    """EU Annex I "form of participation"."""

    ONLINE = "online", _("Online")
    ONSITE = "onsite", _("On site")
    BLENDED = "blended", _("Blended")
    WORK_BASED = "work_based", _("Work-based")


class Supervision(models.TextChoices):
    """EU Annex I (optional) "supervision and identity verification during assessment"; the
    Recommendation's "supervised online or onsite with identity verification" is two values,
    as in the European Learning Model."""

    UNSUPERVISED_NO_ID = "unsupervised_no_id", _("Unsupervised, no identity verification")
    SUPERVISED_NO_ID = "supervised_no_id", _("Supervised, no identity verification")
    SUPERVISED_ONLINE_ID = "supervised_online_id", _("Supervised online, identity verified")
    SUPERVISED_ONSITE_ID = "supervised_onsite_id", _("Supervised on site, identity verified")


class Stackability(models.TextChoices):
    STANDALONE = "standalone", _("Stand-alone")
    STACKABLE = "stackable", _("Can be stacked towards a larger credential")


class Placement(models.Model):
    """Where one achievement version sits: levels, credits, hours, EU Annex I descriptors."""

    version = models.OneToOneField(
        AchievementVersion, on_delete=models.CASCADE, related_name="placement"
    )
    notional_hours = models.DecimalField(
        _("notional learning hours"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    outcomes_en = models.TextField(_("learning outcomes (English, one per line)"), blank=True)
    outcomes_zh = models.TextField(_("learning outcomes (Chinese, one per line)"), blank=True)
    assessment_type = models.CharField(
        _("type of assessment"), max_length=20, choices=AssessmentType.choices, blank=True
    )
    assessment_supervision = models.CharField(
        _("supervision and identity verification during assessment"),
        max_length=24,
        choices=Supervision.choices,
        blank=True,
    )
    participation = models.CharField(
        _("form of participation"), max_length=12, choices=Participation.choices, blank=True
    )
    quality_assurance = models.CharField(_("quality assurance"), max_length=300, blank=True)
    prerequisites = models.TextField(_("prerequisites"), blank=True)
    stackability = models.CharField(
        _("stackability"), max_length=12, choices=Stackability.choices, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"placement of {self.version}"

    def outcomes(self, language: str) -> list[str]:
        text = self.outcomes_zh if language.lower().startswith("zh") else self.outcomes_en
        return [line.strip() for line in (text or self.outcomes_en).splitlines() if line.strip()]


class LevelPlacement(models.Model):
    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="levels")
    level = models.ForeignKey(FrameworkLevel, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering: ClassVar[list[str]] = ["placement", "level__framework__code"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["placement", "level"], name="level_placement_uniq")
        ]

    def __str__(self) -> str:
        return str(self.level)


class CreditValue(models.Model):
    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="credits")
    credit_system = models.ForeignKey(CreditSystem, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=7, decimal_places=2)
    is_primary = models.BooleanField(default=False)
    derived_via = models.ForeignKey(
        CreditConversion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["placement", "-is_primary", "credit_system__code"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["placement", "credit_system"], name="credit_value_uniq"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_value_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.credit_system.unit_en}"


class CompetencyAlignment(models.Model):
    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="competencies")
    item = models.ForeignKey(CompetencyItem, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar[list[str]] = ["placement", "position", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["placement", "item"], name="competency_alignment_uniq")
        ]

    def __str__(self) -> str:
        return str(self.item)
