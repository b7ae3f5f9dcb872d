"""Awarding URLs: the awards API (``urlpatterns``) and the console's award, bulk-issuing and
pathway-review pages (``manage_patterns``). Every console pattern is listed in
``tests/issuers/test_tenant_isolation.py``."""

from django.urls import path

from awarding import api, views
from awarding.bulk import views as bulk_views

urlpatterns = [
    path(
        "api/v1/achievements/<uuid:achievement_id>/awards",
        api.AwardAchievementAPI.as_view(),
        name="api_award_achievement",
    ),
    path("api/v1/awards/<uuid:award_id>", api.AwardStateAPI.as_view(), name="api_award_state"),
    path("api/v1/awards/<uuid:award_id>/revoke", api.RevokeAwardAPI.as_view(), name="api_revoke"),
    path(
        "api/v1/awards/<uuid:award_id>/suspend",
        api.SuspendAwardAPI.as_view(),
        name="api_suspend",
    ),
    path(
        "api/v1/awards/<uuid:award_id>/reinstate",
        api.ReinstateAwardAPI.as_view(),
        name="api_reinstate",
    ),
    path(
        "api/v1/institutions/<slug:institution>/awards/revoke",
        api.BulkRevokeAPI.as_view(),
        name="api_bulk_revoke",
    ),
]

manage_patterns = [
    path(
        "<slug:institution>/achievements/<uuid:achievement>/award/",
        views.award_create,
        name="award_create",
    ),
    path("<slug:institution>/awards/", views.award_list, name="awards"),
    path("<slug:institution>/awards/<uuid:award>/", views.award_detail, name="award_detail"),
    path(
        "<slug:institution>/awards/<uuid:award>/revoke/",
        views.award_revoke,
        {"action": "revoke"},
        name="award_revoke",
    ),
    path(
        "<slug:institution>/awards/<uuid:award>/suspend/",
        views.award_revoke,
        {"action": "suspend"},
        name="award_suspend",
    ),
    path(
        "<slug:institution>/awards/<uuid:award>/reinstate/",
        views.award_revoke,
        {"action": "reinstate"},
        name="award_reinstate",
    ),
    path(
        "<slug:institution>/awards/<uuid:award>/reissue/",
        views.award_reissue,
        name="award_reissue",
    ),
    path("<slug:institution>/awards/revoke/", views.award_bulk_revoke, name="awards_revoke"),
    path(
        "<slug:institution>/awards/<uuid:award>/resend/",
        views.award_resend,
        name="award_resend",
    ),
    path(
        "<slug:institution>/achievements/<uuid:achievement>/bulk/",
        bulk_views.bulk_upload,
        name="bulk_upload",
    ),
    path(
        "<slug:institution>/achievements/<uuid:achievement>/bulk/template.csv",
        bulk_views.bulk_template,
        name="bulk_template",
    ),
    path("<slug:institution>/bulk/<uuid:batch>/", bulk_views.bulk_batch, name="bulk_batch"),
    path(
        "<slug:institution>/bulk/<uuid:batch>/progress/",
        bulk_views.bulk_progress,
        name="bulk_progress",
    ),
    path("<slug:institution>/bulk/<uuid:batch>/issue/", bulk_views.bulk_start, name="bulk_start"),
    path(
        "<slug:institution>/bulk/<uuid:batch>/cancel/", bulk_views.bulk_cancel, name="bulk_cancel"
    ),
    path("<slug:institution>/bulk/<uuid:batch>/retry/", bulk_views.bulk_retry, name="bulk_retry"),
    path(
        "<slug:institution>/bulk/<uuid:batch>/results.csv",
        bulk_views.bulk_results,
        name="bulk_results",
    ),
    path(
        "<slug:institution>/pathways/completions/<uuid:completion>/review/",
        views.pathway_review,
        name="pathway_review",
    ),
]
