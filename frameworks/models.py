"""Qualification frameworks, credit systems, micro-credential policies, competencies and the
placement of an achievement version in them (research frameworks.md §0, §9).

A framework (levels) and a credit system (credits) are modelled separately (§0.1). Credit
conversions exist only as explicit, dated rules that state their basis (§0.3). Policies are
data (§0.2), chosen per institution. Competency items keep the URIs of their source (§0.5).
A ``Placement`` belongs to one ``AchievementVersion``; once that version is published the
placement is frozen with it (``frameworks.services``).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from badges.models import Achievement, AchievementVersion, Award, AwardStatus
from issuers.models import Institution, localized


class QualificationsFramework(models.Model):
    """A framework of levels: NZQCF, EQF, AQF, FHEQ, SCQF, CICan, or an institution's own."""

    class Kind(models.TextChoices):
        NATIONAL = "national", _("National")
        META = "meta", _("Meta-framework")
        INSTITUTIONAL = "institutional", _("Institutional")
        SECTORAL = "sectoral", _("Sectoral")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    short_name = models.CharField(_("short name"), max_length=20)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    jurisdiction = models.CharField(max_length=8, blank=True)
    owner = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uri = models.URLField(max_length=2048, blank=True)
    source_url = models.URLField(max_length=2048, blank=True)
    default_credit_system = models.ForeignKey(
        "CreditSystem", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["code"]

    def __str__(self) -> str:
        return self.short_name

    @property
    def name(self) -> str:
        return localized(self, "name")


class FrameworkLevel(models.Model):
    framework = models.ForeignKey(
        QualificationsFramework, on_delete=models.CASCADE, related_name="levels"
    )
    code = models.CharField(max_length=20)
    ordinal = models.PositiveSmallIntegerField()
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)
    uri = models.URLField(max_length=2048, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["framework", "ordinal"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["framework", "code"], name="level_code_uniq"),
            models.UniqueConstraint(fields=["framework", "ordinal"], name="level_ordinal_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.framework.short_name} {self.name_en}"

    @property
    def name(self) -> str:
        return localized(self, "name")


class CreditSystem(models.Model):
    """A credit unit: NZQCF credit, ECTS, UK (CATS) credit, US semester credit hour."""

    class HoursBasis(models.TextChoices):
        NOTIONAL = "notional", _("Notional learning hours")
        CONTACT = "contact", _("Contact hours")
        MIXED = "mixed", _("Contact and out-of-class hours")

    code = models.SlugField(max_length=40, unique=True)
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)
    unit_en = models.CharField(max_length=50)  # "credits", "ECTS credits"
    unit_zh = models.CharField(max_length=50, blank=True)
    hours_per_unit_min = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    hours_per_unit_max = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    hours_basis = models.CharField(max_length=10, choices=HoursBasis.choices)
    units_per_fte_year = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    decimal_places = models.PositiveSmallIntegerField(default=0)
    uri = models.URLField(max_length=2048, blank=True)
    source_url = models.URLField(max_length=2048, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["code"]

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def unit(self) -> str:
        return localized(self, "unit")


class CreditConversion(models.Model):
    """``to = from * factor``, valid on dates in [valid_from, valid_to]; never applied silently:
    a converted value records the rule that produced it (research §0.3, §4.5)."""

    class Basis(models.TextChoices):
        HOURS = "hours", _("Notional hours")
        FTE_YEAR = "fte_year", _("Share of a full-time year")
        AGREEMENT = "agreement", _("Agreement")

    from_system = models.ForeignKey(CreditSystem, on_delete=models.CASCADE, related_name="+")
    to_system = models.ForeignKey(CreditSystem, on_delete=models.CASCADE, related_name="+")
    factor = models.DecimalField(max_digits=12, decimal_places=6)
    basis = models.CharField(max_length=10, choices=Basis.choices)
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    source_url = models.URLField(max_length=2048, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["from_system", "to_system", "valid_from"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(factor__gt=0), name="conversion_factor_positive"),
            models.CheckConstraint(
                condition=~Q(from_system=models.F("to_system")), name="conversion_two_systems"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_system.code} → {self.to_system.code} × {self.factor} ({self.basis})"


class MicroCredentialPolicy(models.Model):
    """A rule set a micro-credential must meet, as data (research §0.2, §10)."""

    code = models.SlugField(max_length=40, unique=True)
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    framework = models.ForeignKey(
        QualificationsFramework, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    credit_system = models.ForeignKey(
        CreditSystem, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    min_credits = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    max_credits = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    whole_credits = models.BooleanField(default=False)
    min_hours = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    level_required = models.BooleanField(default=False)
    # Names from ``frameworks.policies.REQUIRED_FIELDS`` that must be present.
    required_fields = models.JSONField(default=list, blank=True)
    source_url = models.URLField(max_length=2048, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["code"]
        verbose_name_plural = "micro-credential policies"

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return localized(self, "name")


class PolicyChoice(models.Model):
    """An institution applies ``policy`` to every micro-credential it publishes and awards."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="policy_choices"
    )
    policy = models.ForeignKey(MicroCredentialPolicy, on_delete=models.CASCADE, related_name="+")
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    chosen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["institution", "policy"], name="policy_choice_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.institution_id}: {self.policy_id}"


class CompetencyFramework(models.Model):
    """A competency framework: an imported CASE CFDocument, ESCO skills, or a custom one."""

    class Source(models.TextChoices):
        CASE = "case", _("CASE 1.1")
        ESCO = "esco", _("ESCO")
        CUSTOM = "custom", _("Custom")

    owner = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="competency_frameworks"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    identifier = models.CharField(max_length=255)
    uri = models.URLField(max_length=2048, blank=True)
    title = models.CharField(_("title"), max_length=500)
    creator = models.CharField(max_length=255, blank=True)
    version = models.CharField(max_length=50, blank=True)
    language = models.CharField(max_length=16, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    # Custom frameworks (``frameworks.editor_services``): ``title`` is the English name.
    title_zh = models.CharField(_("name (Chinese)"), max_length=500, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["title"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["owner", "source", "identifier"], name="competency_framework_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.title


class CompetencyItem(models.Model):
    """One competency, skill or standard; ``uri`` is its original URI (→ ``targetUrl``)."""

    framework = models.ForeignKey(
        CompetencyFramework, on_delete=models.CASCADE, related_name="items"
    )
    identifier = models.CharField(max_length=255)
    uri = models.URLField(max_length=2048)
    code = models.CharField(max_length=100, blank=True)
    label = models.CharField(max_length=500)
    statement = models.TextField(blank=True)
    item_type = models.CharField(max_length=100, blank=True)
    alt_labels = models.JSONField(default=list, blank=True)
    # Custom frameworks (``frameworks.editor_services``): ``label`` is the English statement.
    label_zh = models.CharField(max_length=500, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    position = models.PositiveIntegerField(default=0)
    # A retired item is no longer offered for new alignments; credentials keep it.
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["framework", "label"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["framework", "identifier"], name="competency_item_uniq")
        ]

    def __str__(self) -> str:
        return self.label


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


class Pathway(models.Model):
    """A stack of micro-credentials leading to a pathway achievement (research §9.4)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="pathways")
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
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
    # Set in the transaction that revokes or suspends a counted award (``badges.revocation``
    # calls :func:`frameworks.pathways.flag_counted_awards`); cleared when staff review it.
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
