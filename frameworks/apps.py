"""The frameworks app: qualification frameworks and placements (``catalogue``), competency
frameworks (``competencies``), stackable pathways, recognition of prior learning and
equivalence statements, each a subpackage with the same file map."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FrameworksConfig(AppConfig):
    name = "frameworks"
    verbose_name = _("Frameworks")
