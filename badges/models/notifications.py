"""E-mails to learners about their awards, deduplicated by key."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from badges.models.awards import Award


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
