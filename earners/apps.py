from django.apps import AppConfig


class EarnersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "earners"
    verbose_name = "Earners"
