"""Public pages of credentials, achievements and issuers, and their share cards."""

from django.urls import path

from sharing import contexts, views

urlpatterns = [
    path("credentials/<uuid:award_id>", views.credential, name="credential"),
    path(
        "credentials/<uuid:award_id>.json",
        views.credential,
        {"as_json": True},
        name="credential_json",
    ),
    path("credentials/<uuid:award_id>.jwt", views.credential_jwt, name="credential_jwt"),
    path(
        "credentials/<uuid:award_id>/preview.png",
        views.credential_preview,
        name="credential_preview",
    ),
    path("credentials/<uuid:award_id>/qr.svg", views.credential_qr, name="credential_qr"),
    path(
        "credentials/<uuid:award_id>/wechat.png",
        views.credential_wechat,
        name="credential_wechat",
    ),
    path("achievements/<uuid:achievement_id>", views.achievement, name="achievement"),
    path(
        "achievements/<uuid:achievement_id>/v/<int:number>",
        views.achievement_version,
        name="achievement_version",
    ),
    path(
        "achievements/<uuid:achievement_id>/preview.png",
        views.achievement_preview,
        name="achievement_preview",
    ),
    path("issuers/<slug:slug>", views.issuer_profile, name="issuer_profile"),
    path("issuers/<slug:slug>/preview.png", views.issuer_preview, name="issuer_preview"),
    path(
        "contexts/microcredential/v1",
        contexts.microcredential_context,
        name="microcredential_context",
    ),
]
