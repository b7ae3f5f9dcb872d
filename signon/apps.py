from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignonConfig(AppConfig):
    name = "signon"
    verbose_name = _("Campus sign-on")
