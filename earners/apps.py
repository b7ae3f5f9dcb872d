from typing import Any

from django.apps import AppConfig


class EarnersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "earners"
    verbose_name = "Earners"

    def ready(self) -> None:
        from earners import signals  # noqa: F401  (connects the sign-in receiver)

    def is_public_award(self, award: Any) -> bool:
        """Asked by the verify page (a lower layer, through the app registry) before it links
        a superseded badge to its re-issue: only if the learner's choices make it public."""
        from earners import selectors

        return selectors.is_indexable(award)
