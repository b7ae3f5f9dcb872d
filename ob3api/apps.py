from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Ob3ApiConfig(AppConfig):
    name = "ob3api"
    verbose_name = _("Open Badges API")
