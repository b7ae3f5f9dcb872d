"""Achievements (micro-credential definitions) and their immutable versions.

An ``AchievementVersion`` is written only through ``achievements.services``: a draft may
change, a published version never does; editing it starts the next version.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from issuers.models import Image, Issuer, localized, slug_validator


class AchievementType(models.TextChoices):
    """OB 3.0 ``AchievementType`` vocabulary (OB 3.0 §B.3.1); open to ``ext:`` terms later."""

    MICRO_CREDENTIAL = "MicroCredential", _("Micro-credential")
    BADGE = "Badge", _("Badge")
    CERTIFICATE = "Certificate", _("Certificate")
    CERTIFICATE_OF_COMPLETION = "CertificateOfCompletion", _("Certificate of completion")
    CERTIFICATION = "Certification", _("Certification")
    COURSE = "Course", _("Course")
    COMPETENCY = "Competency", _("Competency")
    ACHIEVEMENT = "Achievement", _("Achievement")
    ASSESSMENT = "Assessment", _("Assessment")
    ASSIGNMENT = "Assignment", _("Assignment")
    AWARD = "Award", _("Award")
    CO_CURRICULAR = "CoCurricular", _("Co-curricular activity")
    COMMUNITY_SERVICE = "CommunityService", _("Community service")
    FIELDWORK = "Fieldwork", _("Fieldwork")
    LEARNING_PROGRAM = "LearningProgram", _("Learning programme")
    LICENSE = "License", _("Licence")
    MEMBERSHIP = "Membership", _("Membership")
    DIPLOMA = "Diploma", _("Diploma")
    DEGREE = "Degree", _("Degree")


class ResultType(models.TextChoices):
    """OB 3.0 ``ResultType`` vocabulary (OB 3.0 §B.3.4)."""

    STATUS = "Status", _("Status")
    LETTER_GRADE = "LetterGrade", _("Letter grade")
    PERCENT = "Percent", _("Percent")
    PERFORMANCE_LEVEL = "PerformanceLevel", _("Performance level")
    RAW_SCORE = "RawScore", _("Raw score")
    SCALED_SCORE = "ScaledScore", _("Scaled score")
    GRADE_POINT_AVERAGE = "GradePointAverage", _("Grade point average")
    RESULT = "Result", _("Result")


class Language(models.TextChoices):
    """The one language a credential is issued in (its ``inLanguage``, BCP 47)."""

    EN = "en", _("English")
    ZH_HANS = "zh-Hans", _("Simplified Chinese")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Achievement(models.Model):
    """A micro-credential definition. Its content lives in its versions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="achievements")
    slug = models.SlugField(_("short name"), max_length=50, validators=[slug_validator])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["issuer", "slug"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["issuer", "slug"], name="achievement_slug_per_issuer")
        ]

    def __str__(self) -> str:
        return f"{self.issuer.slug}/{self.slug}"


# Content fields of a version, in the order the console and the "what changed" list show them.
CONTENT_FIELDS: tuple[str, ...] = (
    "name_en",
    "name_zh",
    "description_en",
    "description_zh",
    "criteria_en",
    "criteria_zh",
    "evidence_required_en",
    "evidence_required_zh",
    "achievement_type",
    "tags",
    "validity_days",
    "result_descriptions",
    "image",
)


class AchievementVersion(models.Model):
    """One immutable version of an achievement once published; ``id`` of the OB 3.0
    ``Achievement`` is this version's URL and ``version`` its ``number`` (DESIGN.md §5)."""

    achievement = models.ForeignKey(Achievement, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    criteria_en = models.TextField(_("criteria (English, Markdown)"), blank=True)
    criteria_zh = models.TextField(_("criteria (Chinese, Markdown)"), blank=True)
    evidence_required_en = models.TextField(_("evidence required (English)"), blank=True)
    evidence_required_zh = models.TextField(_("evidence required (Chinese)"), blank=True)
    image = models.ForeignKey(
        Image, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    achievement_type = models.CharField(
        _("type"),
        max_length=40,
        choices=AchievementType.choices,
        default=AchievementType.MICRO_CREDENTIAL,
    )
    validity_days = models.PositiveIntegerField(_("valid for (days)"), null=True, blank=True)
    # [{"name_en", "name_zh", "result_type", "allowed_values": [...]}] (OB ResultDescription)
    result_descriptions = models.JSONField(_("results"), default=list, blank=True)
    change_note = models.TextField(_("what changed"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["achievement", "number"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["achievement", "number"], name="achievementversion_number"
            ),
            models.UniqueConstraint(
                fields=["achievement"],
                condition=Q(status="draft"),
                name="achievementversion_one_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.achievement} v{self.number} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def description(self) -> str:
        return localized(self, "description")

    def text(self, field: str, language: str) -> str:
        """``field`` in ``language`` (``en`` or ``zh-Hans``), without falling back."""
        suffix = "zh" if language.lower().startswith("zh") else "en"
        return str(getattr(self, f"{field}_{suffix}"))

    def languages(self) -> list[str]:
        """Languages this version can be issued in: those with name, description, criteria."""
        return [
            code
            for code in (Language.EN, Language.ZH_HANS)
            if all(self.text(f, code).strip() for f in ("name", "description", "criteria"))
        ]
