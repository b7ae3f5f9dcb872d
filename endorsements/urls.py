"""Endorsement URLs: the console pages (``manage_patterns``, in the ``manage`` namespace, in
``tests/issuers/test_tenant_isolation.py``) and each endorsement credential's public URL."""

from django.urls import path

from endorsements import views

manage_patterns = [
    path("<slug:institution>/endorsements/", views.endorsements, name="endorsements"),
    path("<slug:institution>/endorsements/new/", views.endorsement_new, name="endorsement_new"),
    path(
        "<slug:institution>/endorsements/<uuid:endorsement>/withdraw/",
        views.endorsement_withdraw,
        name="endorsement_withdraw",
    ),
    path(
        "<slug:institution>/endorsements/ask/",
        views.endorsement_request_new,
        name="endorsement_request_new",
    ),
    path(
        "<slug:institution>/endorsements/requests/<uuid:request_id>/",
        views.endorsement_request,
        name="endorsement_request",
    ),
    path(
        "<slug:institution>/endorsements/requests/<uuid:request_id>/decline/",
        views.endorsement_request_decline,
        name="endorsement_request_decline",
    ),
]

urlpatterns = [
    path(
        "endorsements/<uuid:endorsement_id>",
        views.endorsement_credential,
        name="endorsement_credential",
    ),
]
