"""Achievements (micro-credential definitions) with immutable versions, and awards.

An ``AchievementVersion`` is written only through ``badges.services``: a draft may change,
a published version never does; editing it starts the next version. An ``Award`` keeps the
exact signed credential text it was issued with (DESIGN.md §4); nothing rebuilds it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from issuers.models import Image, Issuer, SigningKey, localized, slug_validator


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


class AwardStatus(models.TextChoices):
    """Where an award stands with its issuer. Expiry is not a status: it follows from time."""

    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")


class Award(models.Model):
    """One badge awarded to one learner: the signed OB 3.0 credential and its private facts.

    ``credential_json`` is the exact text that was signed and is served byte for byte; the
    ``credential`` property is that text parsed. (It is not stored a second time as JSONB:
    nothing queries inside it, and storing it twice made a bulk award cost half again as
    much.) ``recipient_email`` stays with the issuer (notifications, the learner's backpack)
    and never appears on a public page.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="awards")
    achievement_version = models.ForeignKey(
        AchievementVersion, on_delete=models.PROTECT, related_name="awards"
    )
    signing_key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="awards")
    recipient_email = models.EmailField(_("recipient e-mail"))
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
    # Revocation and suspension (issue #6): the current status, changed only by
    # ``badges.revocation``; every change is also an ``AwardStatusEvent``.
    status = models.CharField(
        _("status"), max_length=10, choices=AwardStatus.choices, default=AwardStatus.ACTIVE
    )
    status_reason = models.TextField(_("reason"), blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    reissued_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reissued_as"
    )
    # Issue #8: when the learner accepted the badge from the link in the e-mail.
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-awarded_at", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            # The backpack, claiming and duplicate checks find awards by address.
            models.Index(fields=["recipient_email"], name="award_recipient_email"),
        ]

    def __str__(self) -> str:
        return f"{self.achievement_version} → {self.recipient_name or self.pk}"

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


class StatusPurpose(models.TextChoices):
    """``statusPurpose`` of a W3C Bitstring Status List (Bitstring Status List v1.0 §2.1)."""

    REVOCATION = "revocation", _("Revocation")
    SUSPENSION = "suspension", _("Suspension")


class StatusList(models.Model):
    """One W3C Bitstring Status List of an issuer, served signed at ``/status/<id>``.

    Each award gets one entry at a random index in the issuer's open revocation list and one
    in its open suspension list (DESIGN.md §5, research §4.1). The bits are not stored: they
    follow from the awards' ``status``. The signed ``BitstringStatusListCredential`` is kept
    with the ``version`` it was built from; any status change bumps ``version`` in the same
    transaction, so the next request rebuilds it (``badges.status``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="status_lists")
    purpose = models.CharField(max_length=12, choices=StatusPurpose.choices)
    length = models.PositiveIntegerField(default=131_072)
    # Entries drawn before the list counts as full (random draws stay cheap below ~75 %).
    capacity = models.PositiveIntegerField(default=98_304)
    is_full = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveBigIntegerField(default=0)
    signed_version = models.BigIntegerField(default=-1)
    signed_json = models.TextField(blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_with = models.ForeignKey(
        SigningKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["issuer", "purpose", "created_at"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(length__gte=131_072), name="statuslist_minimum_length"
            ),
            models.CheckConstraint(
                condition=Q(capacity__lte=models.F("length")), name="statuslist_capacity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer.slug} {self.purpose} {self.pk}"


class StatusEntry(models.Model):
    """An award's index in one status list. Unique per list: the database refuses a second
    award at the same index, whatever the concurrency (research security §3.2 item 4)."""

    # No index of their own: the unique constraints below lead with these columns.
    award = models.ForeignKey(
        Award, on_delete=models.CASCADE, related_name="status_entries", db_index=False
    )
    status_list = models.ForeignKey(
        StatusList, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    purpose = models.CharField(max_length=12, choices=StatusPurpose.choices)
    index = models.PositiveIntegerField()

    class Meta:
        ordering: ClassVar[list[str]] = ["status_list", "index"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["status_list", "index"], name="statusentry_index"),
            models.UniqueConstraint(fields=["award", "purpose"], name="statusentry_purpose"),
        ]

    def __str__(self) -> str:
        return f"{self.status_list_id}#{self.index}"


class StatusAction(models.TextChoices):
    REVOKED = "revoked", _("Revoked")
    SUSPENDED = "suspended", _("Suspended")
    REINSTATED = "reinstated", _("Reinstated")
    REISSUED = "reissued", _("Re-issued")


class AwardStatusEvent(models.Model):
    """Append-only history of an award's status: who, when, why, what (issue #6).

    Rows are only ever inserted (``badges.revocation``); saving an existing row or deleting
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


# --------------------------------------------------------------------------------------------
# Bulk issuing, notifications, claiming and API idempotency (issue #8, DESIGN.md §8)
# --------------------------------------------------------------------------------------------


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
            models.Index(fields=["batch", "state"], name="bulkrow_batch_state")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} row {self.number}"


class NotificationKind(models.TextChoices):
    ISSUED = "issued", _("Badge issued")
    REMINDER = "reminder", _("Reminder")


class AwardNotification(models.Model):
    """One e-mail to the learner about an award. ``key`` is unique, so a task that runs twice
    finds the row instead of writing (and sending) a second one: at-least-once, deduplicated."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=10, choices=NotificationKind.choices)
    key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["award", "created_at"]

    def __str__(self) -> str:
        return self.key


class IssuerApiToken(models.Model):
    """An API token that can award badges of one issuer only. Only its SHA-256 is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Written at most once a minute per token (token_services.record_token_use).
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.issuer} token {self.name}"


class IdempotentRequest(models.Model):
    """The stored answer to an API request made with an ``Idempotency-Key``: the same key
    returns it again instead of awarding twice (unique per issuer)."""

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=201)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["issuer", "key"], name="idempotentrequest_key")
        ]

    def __str__(self) -> str:
        return f"{self.issuer_id} {self.key}"
