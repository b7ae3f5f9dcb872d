"""Rollups of what happened to an institution's badges, for the console's figures and charts.

``DailyCount`` holds one number per day, issuer, micro-credential, metric and channel, and
``MonthlyCount`` the same per month; the console sums a date range of them and never reads
the awards themselves. ``services.fold``
adds what happened since the last fold (``FoldCursor``), ``services.rebuild`` recomputes it
all from the source tables. ``ShareClick`` is the one source this app keeps itself: a press
of a LinkedIn button on a public badge page (no one's identity, only the day and where to).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from badges.models import Achievement, Award
from issuers.models import Institution, Issuer


class Metric(models.TextChoices):
    ISSUED = "issued", pgettext_lazy("analytics", "Issued")
    CLAIMED = "claimed", pgettext_lazy("analytics", "Claimed")
    EMAILED = "emailed", pgettext_lazy("analytics", "E-mailed")
    OPENED = "opened", pgettext_lazy("analytics", "E-mail opened")
    VIEWED = "viewed", pgettext_lazy("analytics", "Viewed")
    VERIFIED = "verified", pgettext_lazy("analytics", "Verified")
    SHARED = "shared", pgettext_lazy("analytics", "Shared to LinkedIn")
    REVOKED = "revoked", pgettext_lazy("analytics", "Revoked")
    SUSPENDED = "suspended", pgettext_lazy("analytics", "Suspended")
    EXPIRED = "expired", pgettext_lazy("analytics", "Expired")
    PATHWAY = "pathway", pgettext_lazy("analytics", "Pathway completions")


class ShareTarget(models.TextChoices):
    LINKEDIN_PROFILE = "linkedin_add", _("Added to a LinkedIn profile")
    LINKEDIN_POST = "linkedin_post", _("Posted on LinkedIn")


class DailyCount(models.Model):
    """How many times ``metric`` happened on ``day`` to awards of one micro-credential,
    through ``channel`` (empty for metrics without one)."""

    day = models.DateField()
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="+")
    achievement = models.ForeignKey(Achievement, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=12, choices=Metric.choices)
    channel = models.CharField(max_length=16, blank=True)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["day", "issuer", "achievement", "metric", "channel"],
                name="dailycount_one_row",
            )
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["institution", "day"], name="dailycount_institution_day"),
            models.Index(fields=["issuer", "day"], name="dailycount_issuer_day"),
            models.Index(fields=["achievement", "day"], name="dailycount_achievement_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.channel} {self.n}"


class MonthlyCount(models.Model):
    """The same counts by month (``day`` is the month's first day): what the dashboard's
    totals and the charts by month read, a thirtieth of the rows."""

    day = models.DateField()
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="+")
    achievement = models.ForeignKey(Achievement, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=12, choices=Metric.choices)
    channel = models.CharField(max_length=16, blank=True)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["day", "issuer", "achievement", "metric", "channel"],
                name="monthlycount_one_row",
            )
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["institution", "day"], name="monthlycount_institution_day"),
            models.Index(fields=["issuer", "day"], name="monthlycount_issuer_day"),
            models.Index(fields=["achievement", "day"], name="monthlycount_achievement_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m} {self.metric} {self.channel} {self.n}"


class FoldCursor(models.Model):
    """How far the fold has read: ``at`` for the sources read by time (rows up to it are in
    the rollups), ``last_id`` for those read by id (``earners.ViewEvent``)."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField(null=True, blank=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.at} / {self.last_id}"


class ShareClick(models.Model):
    """One press of a LinkedIn button on a public badge page."""

    id = models.BigAutoField(primary_key=True)
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=16, choices=ShareTarget.choices)
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.day} {self.target} {self.award_id}"
