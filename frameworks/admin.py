"""Platform operators maintain reference data here: frameworks, credit systems, dated
conversion rules and micro-credential policies; they can also look up equivalence statements."""

from __future__ import annotations

from django.contrib import admin

from frameworks.models import (
    CreditConversion,
    CreditSystem,
    EquivalenceStatement,
    FrameworkLevel,
    MicroCredentialPolicy,
    QualificationsFramework,
)


class LevelInline(admin.TabularInline[FrameworkLevel, QualificationsFramework]):
    model = FrameworkLevel
    extra = 0


@admin.register(QualificationsFramework)
class QualificationsFrameworkAdmin(admin.ModelAdmin[QualificationsFramework]):
    list_display = ("short_name", "name_en", "kind", "jurisdiction", "is_active")
    inlines = (LevelInline,)


@admin.register(CreditSystem)
class CreditSystemAdmin(admin.ModelAdmin[CreditSystem]):
    list_display = ("code", "name_en", "hours_per_unit_min", "hours_per_unit_max")


@admin.register(CreditConversion)
class CreditConversionAdmin(admin.ModelAdmin[CreditConversion]):
    list_display = ("from_system", "to_system", "factor", "basis", "valid_from", "valid_to")


@admin.register(MicroCredentialPolicy)
class MicroCredentialPolicyAdmin(admin.ModelAdmin[MicroCredentialPolicy]):
    list_display = ("code", "name_en", "min_credits", "max_credits", "min_hours")


@admin.register(EquivalenceStatement)
class EquivalenceStatementAdmin(admin.ModelAdmin[EquivalenceStatement]):
    """Read-mostly: institutions write statements in the console (services check them)."""

    list_display = ("title", "provider_name", "institution", "status", "valid_from", "valid_until")
    list_filter = ("status",)
    search_fields = ("title", "provider_name", "achievement_id", "issuer_id")
    readonly_fields = ("status", "published_at", "published_by", "withdrawn_at")
