"""Top-level URLs. The staff console is the ``manage`` namespace at ``/manage/``."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts.urls import manage_patterns as account_patterns
from achievements.urls import manage_patterns as achievement_patterns
from awarding.urls import manage_patterns as awarding_patterns
from badges.urls import manage_patterns as badge_patterns
from earners.urls import manage_patterns as earner_patterns
from frameworks.urls import manage_patterns as framework_patterns
from insignia import views
from issuers.urls import manage_patterns as institution_patterns

# Account pages first: their fixed prefixes (login/, password-reset/) are reserved slugs.
manage_patterns = [
    *account_patterns,
    *institution_patterns,
    path("<slug:institution>/", views.dashboard, name="dashboard"),
    *achievement_patterns,
    *awarding_patterns,
    *badge_patterns,
    *framework_patterns,
    *earner_patterns,
]

urlpatterns = [
    path("", views.home, name="home"),
    path("images/<uuid:image_id>", views.image, name="image"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("manage/", include((manage_patterns, "manage"))),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("", include("sharing.urls")),
    path("", include("badges.urls")),
    path("", include("integrations.urls")),
    path("", include("issuers.urls")),
    path("", include("verification.urls")),
    path("", include("frameworks.urls")),
    path("", include("earners.urls")),
]
