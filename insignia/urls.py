"""Top-level URLs. The staff console is the ``manage`` namespace at ``/manage/``."""

from django.contrib import admin
from django.urls import include, path, re_path

from accounts.otp_urls import manage_patterns as two_step_patterns
from accounts.otp_views import TwoStepAdminSite
from accounts.urls import manage_patterns as account_patterns
from achievements.urls import manage_patterns as achievement_patterns
from analytics.urls import manage_patterns as analytics_patterns
from awarding.urls import manage_patterns as awarding_patterns
from badges.urls import manage_patterns as badge_patterns
from earners.urls import manage_patterns as earner_patterns
from endorsements.urls import manage_patterns as endorsement_patterns
from frameworks.urls import manage_patterns as framework_patterns
from insignia import views
from integrations.console_urls import manage_patterns as integration_patterns
from integrations.v1 import errors as api_errors
from issuers.urls import manage_patterns as institution_patterns
from lti.console_urls import manage_patterns as lti_patterns
from signon.urls import manage_patterns as signon_patterns
from webhooks.urls import manage_patterns as webhook_patterns

# Account pages first: their fixed prefixes (login/, password-reset/) are reserved slugs.
manage_patterns = [
    *account_patterns,
    *two_step_patterns,
    *institution_patterns,
    path("<slug:institution>/", views.dashboard, name="dashboard"),
    *analytics_patterns,
    *achievement_patterns,
    *awarding_patterns,
    *badge_patterns,
    *framework_patterns,
    *endorsement_patterns,
    *earner_patterns,
    *integration_patterns,
    *webhook_patterns,
    *signon_patterns,
    *lti_patterns,
]

# Operators with an authenticator give its code before the admin too.
admin.site.__class__ = TwoStepAdminSite

urlpatterns = [
    path("", views.home, name="home"),
    path("images/<uuid:image_id>", views.image, name="image"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("manage/", include((manage_patterns, "manage"))),
    path("admin/", admin.site.urls),
    path("", include("analytics.urls")),
    path("", include("sharing.urls")),
    path("", include("badges.urls")),
    path("", include("integrations.urls")),
    path("", include("issuers.urls")),
    path("", include("verification.urls")),
    path("", include("frameworks.urls")),
    path("", include("endorsements.urls")),
    path("", include("earners.urls")),
    path("", include("signon.urls")),
    path("", include("lti.urls")),
    path("", include("ob3api.urls")),
    path("", include("wallets.urls")),
    # Last: any other path under /api/v1/ answers 404 in the API's error format.
    re_path(r"^api/v1/(?P<rest>.*)$", api_errors.not_found, name="api_not_found"),
]
