"""The badges app's public machine endpoints (``urlpatterns``) and its console page of API
tokens (``manage_patterns``).

Every console pattern is listed in ``tests/issuers/test_tenant_isolation.py``.
"""

from django.urls import path

from badges import views
from badges.notifications import views as claim_views
from badges.statuslists import views as status_views
from badges.tokens import views as token_views

urlpatterns = [
    # Status lists (BitstringStatusListCredential) and an award's status entries.
    path("status/<uuid:status_list_id>", status_views.status_list_view, name="status_list"),
    path(
        "credentials/<uuid:award_id>/status",
        status_views.credential_status_view,
        name="credential_status",
    ),
    # Baked images and the generated badge image of a version.
    path(
        "credentials/<uuid:award_id>.png",
        views.credential_baked,
        {"fmt": "png"},
        name="credential_baked_png",
    ),
    path(
        "credentials/<uuid:award_id>.svg",
        views.credential_baked,
        {"fmt": "svg"},
        name="credential_baked_svg",
    ),
    path(
        "achievements/<uuid:achievement_id>/v/<int:number>/image",
        views.achievement_image,
        name="achievement_image",
    ),
    # Open Badges 2.0 hosted objects.
    path("ob2/assertions/<uuid:award_id>", views.assertion, name="ob2_assertion"),
    path("ob2/assertions/<uuid:award_id>.png", views.assertion_png, name="ob2_assertion_png"),
    path("ob2/badges/<uuid:achievement_id>", views.badge, name="ob2_badge"),
    path(
        "ob2/badges/<uuid:achievement_id>/v/<int:number>",
        views.badge_version,
        name="ob2_badge_version",
    ),
    path("ob2/issuers/<slug:slug>", views.issuer, name="ob2_issuer"),
    # The learner's claim link and the e-mail's "opened" pixel.
    path("claim/<str:token>", claim_views.claim, name="claim"),
    path("claim/<str:token>/opened.gif", claim_views.claim_opened, name="claim_opened"),
]

manage_patterns = [
    path(
        "<slug:institution>/issuers/<slug:issuer>/api-tokens/",
        token_views.api_tokens,
        name="api_tokens",
    ),
    path(
        "<slug:institution>/issuers/<slug:issuer>/api-tokens/<uuid:token>/revoke/",
        token_views.api_token_revoke,
        name="api_token_revoke",
    ),
]
