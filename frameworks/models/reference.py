"""Reference data: qualifications frameworks and levels, credit systems and dated conversion
rules, micro-credential policies, and competency frameworks with their items (research
frameworks.md §0.1 to §0.5).

Text that credentials carry (a level's name and code, a framework's name, a credit unit, a
competency's name, code and statement) refuses what XML 1.0 cannot hold (``common.text``):
a credential is also baked into an SVG."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from badges.models import AchievementType
from issuers.models import Institution, Issuer, badge_text, localized


class QualificationsFramework(models.Model):
    """A framework of levels: NZQCF, EQF, AQF, FHEQ, SCQF, CICan, or an institution's own."""

    class Kind(models.TextChoices):
        NATIONAL = "national", _("National")
        META = "meta", _("Meta-framework")
        INSTITUTIONAL = "institutional", _("Institutional")
        SECTORAL = "sectoral", _("Sectoral")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200, validators=badge_text)
    name_zh = models.CharField(
        _("name (Chinese)"), max_length=200, blank=True, validators=badge_text
    )
    short_name = models.CharField(_("short name"), max_length=20, validators=badge_text)
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
    code = models.CharField(max_length=20, validators=badge_text)
    ordinal = models.PositiveSmallIntegerField()
    name_en = models.CharField(max_length=200, validators=badge_text)
    name_zh = models.CharField(max_length=200, blank=True, validators=badge_text)
    uri = models.URLField(max_length=2048, blank=True, validators=badge_text)

    class Meta:
        ordering: ClassVar[list[str]] = ["framework", "ordinal"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["framework", "code"], name="level_code_uniq"),
            models.UniqueConstraint(fields=["framework", "ordinal"], name="level_ordinal_uniq"),
        ]

    def __str__(self) -> str:
        # In the reader's language: this is how a level is named in the console's menus.
        return f"{self.framework.short_name} {self.name}"

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
    name_en = models.CharField(max_length=200, validators=badge_text)
    name_zh = models.CharField(max_length=200, blank=True, validators=badge_text)
    unit_en = models.CharField(max_length=50, validators=badge_text)  # "credits", "ECTS credits"
    unit_zh = models.CharField(max_length=50, blank=True, validators=badge_text)
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
        return self.name  # in the reader's language, as the console's menus show it

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
    # Names from ``frameworks.catalogue.policies.REQUIRED_FIELDS`` that must be present.
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
    """An institution applies ``policy`` to the micro-credentials it publishes and awards.

    The scope narrows or moves it: ``issuer`` set, only that issuer's achievements;
    ``achievement_type`` set, achievements of that type instead of micro-credentials. Both
    empty (every choice made before scopes existed) means every micro-credential of the
    institution."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="policy_choices"
    )
    policy = models.ForeignKey(MicroCredentialPolicy, on_delete=models.CASCADE, related_name="+")
    issuer = models.ForeignKey(
        Issuer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issuer"),
    )
    achievement_type = models.CharField(
        _("achievement type"), max_length=40, blank=True, choices=AchievementType.choices
    )
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
    uri = models.URLField(max_length=2048, blank=True, validators=badge_text)
    title = models.CharField(_("title"), max_length=500, validators=badge_text)
    creator = models.CharField(max_length=255, blank=True, validators=badge_text)
    version = models.CharField(max_length=50, blank=True, validators=badge_text)
    language = models.CharField(max_length=16, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    # Custom frameworks (``frameworks.competencies.services``): ``title`` is the English name.
    title_zh = models.CharField(
        _("name (Chinese)"), max_length=500, blank=True, validators=badge_text
    )
    description_en = models.TextField(_("description (English)"), blank=True, validators=badge_text)
    description_zh = models.TextField(_("description (Chinese)"), blank=True, validators=badge_text)

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
    uri = models.URLField(max_length=2048, validators=badge_text)
    code = models.CharField(max_length=100, blank=True, validators=badge_text)
    label = models.CharField(max_length=500, validators=badge_text)
    statement = models.TextField(blank=True, validators=badge_text)
    item_type = models.CharField(max_length=100, blank=True)
    alt_labels = models.JSONField(default=list, blank=True)
    # Custom frameworks (``frameworks.competencies.services``): ``label`` is the English statement.
    label_zh = models.CharField(max_length=500, blank=True, validators=badge_text)
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
