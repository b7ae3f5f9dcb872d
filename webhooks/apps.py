from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # Register the tasks in every process (web, worker, commands): ``events`` asks for
        # ``webhooks.tasks.dispatch`` by name, and only a process that knows the task runs it
        # in place when tasks are eager (tests, ``make run``); others would post it to a broker.
        from webhooks import tasks  # noqa: F401
