"""The project's URLs with the webhooks console mounted in the ``manage`` namespace, for the
tests of the console pages while ``insignia/urls.py`` does not include them yet (the lead
adds ``webhooks.urls.manage_patterns`` there; then this module changes nothing)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from insignia import urls as project
from webhooks.urls import manage_patterns as webhook_patterns

_names = {p.name for p in project.manage_patterns if isinstance(p, URLPattern)}
_missing = [p for p in webhook_patterns if p.name not in _names]

_manage = path("manage/", include(([*project.manage_patterns, *_missing], "manage")))
urlpatterns: list[URLPattern | URLResolver] = []
for pattern in project.urlpatterns:
    if isinstance(pattern, URLResolver) and pattern.namespace == "manage":
        urlpatterns.append(_manage)
    elif isinstance(pattern, URLPattern | URLResolver):
        urlpatterns.append(pattern)
