"""Operators' admin (``/admin/``): read-only views of webhook endpoints and deliveries, for
support. Secrets are never shown; changes go through the console (``webhooks.services``)."""

from django.contrib import admin
from django.http import HttpRequest

from webhooks.models import Delivery, Endpoint


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    list_display = ("url", "institution", "enabled", "disabled_reason", "consecutive_failures")
    list_filter = ("enabled", "disabled_reason")
    search_fields = ("url", "institution__slug")
    exclude = ("secret", "previous_secret")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event", "endpoint", "status", "attempts", "next_attempt_at")
    list_filter = ("status",)
    search_fields = ("endpoint__url",)
