from django.apps import AppConfig


class AwardingConfig(AppConfig):
    name = "awarding"
    verbose_name = "Awarding"
