"""Operators' admin (``/admin/``): read-mostly views of tenants, for support."""

from django.contrib import admin

from issuers.models import AuditEvent, Institution, Invitation, Issuer, Membership, SigningKey


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin[Institution]):
    list_display = ("name_en", "name_zh", "slug", "country", "created_at")
    search_fields = ("name_en", "name_zh", "slug")
    exclude = ("logo",)


@admin.register(Issuer)
class IssuerAdmin(admin.ModelAdmin[Issuer]):
    list_display = ("name_en", "slug", "institution", "email")
    search_fields = ("name_en", "name_zh", "slug")
    list_filter = ("institution",)
    exclude = ("image",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("user", "institution", "issuer", "role")
    list_filter = ("role", "institution")
    raw_id_fields = ("user",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ("email", "institution", "role", "created_at", "accepted_at", "cancelled_at")
    exclude = ("token_hash",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ("at", "institution", "actor", "action", "target")
    list_filter = ("action",)

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin[SigningKey]):
    """Read-only: operators see which keys exist; the encrypted private key is never shown."""

    list_display = ("issuer", "key_id", "status", "created_at", "retired_at", "withdrawn_at")
    list_filter = ("status",)
    fields = ("issuer", "key_id", "public_key_multibase", "status", "created_at", "retired_at")
    readonly_fields = fields

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
