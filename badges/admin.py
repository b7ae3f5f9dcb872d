"""Operators' admin (``/admin/``): read-only views of achievements and awards, for support.

Writes go through the console and ``badges.services``; a published version and a signed award
must never be edited here.
"""

from django.contrib import admin
from django.http import HttpRequest

from badges.models import Achievement, AchievementVersion, Award


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Achievement)
class AchievementAdmin(ReadOnlyAdmin):
    list_display = ("slug", "issuer", "created_at")
    list_filter = ("issuer__institution",)
    search_fields = ("slug", "issuer__slug")


@admin.register(AchievementVersion)
class AchievementVersionAdmin(ReadOnlyAdmin):
    list_display = ("achievement", "number", "status", "name_en", "published_at")
    list_filter = ("status",)
    search_fields = ("name_en", "name_zh", "achievement__slug")


@admin.register(Award)
class AwardAdmin(ReadOnlyAdmin):
    list_display = ("id", "issuer", "achievement_version", "recipient_name", "awarded_at")
    list_filter = ("issuer",)
    exclude = ("recipient_email", "recipient_identifier", "salt")  # personal data
