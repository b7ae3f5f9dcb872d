"""The learner's URLs: ``/backpack/…`` (signed in), ``/shared/<token>`` and
``/learners/<slug>`` (public). Included at the root under the ``earners`` namespace."""

from django.urls import path

from earners import views
from earners.identity import views as identity_views
from earners.imports import views as import_views

app_name = "earners"

urlpatterns = [
    path("backpack/", views.backpack, name="backpack"),
    path("backpack/signup/", views.sign_up, name="signup"),
    path("backpack/signup/sent/", views.sign_up_sent, name="signup_sent"),
    path("backpack/login/", views.login_view, name="login"),
    path("backpack/emails/", views.emails, name="emails"),
    path("backpack/emails/verify/<str:token>/", views.verify_email, name="verify_email"),
    path("backpack/profile/", views.profile_settings, name="profile_settings"),
    path("backpack/badges/<uuid:award_id>/", views.badge, name="badge"),
    path(
        "backpack/badges/<uuid:award_id>/certificate.pdf",
        views.certificate,
        name="certificate",
    ),
    path("backpack/imports/", import_views.import_view, name="imports"),
    path("backpack/account/", views.account, name="account"),
    path("backpack/account/export.zip", views.export_data, name="export"),
    path("backpack/collections/", views.collections, name="collections"),
    path("backpack/collections/<uuid:collection_id>/", views.collection, name="collection"),
    path("claim/<str:token>/accept", views.accept_claim, name="claim_accept"),
    path("shared/<str:token>", views.shared, name="shared"),
    path("shared/<str:token>/transcript.pdf", views.transcript, name="transcript"),
    path("learners/<str:slug>", views.public_profile, name="public_profile"),
]

# The issuer's side, under /manage/ (listed in tests/issuers/test_tenant_isolation.py).
manage_patterns = [
    path(
        "<slug:institution>/identity-changes/",
        identity_views.identity_changes,
        name="identity_changes",
    ),
]
