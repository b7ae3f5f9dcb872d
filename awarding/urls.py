"""Awarding URLs: the console's award, bulk-issuing and pathway-review pages
(``manage_patterns``). Every console pattern is listed in
``tests/issuers/test_tenant_isolation.py``."""

from django.urls import path

from awarding import list_views, views
from awarding.bulk import views as bulk_views

manage_patterns = [
    path(
        "<slug:institution>/achievements/<uuid:achievement>/award/",
        views.award_create,
        name="award_create",
    ),
    path("<slug:institution>/awards/", list_views.award_list, name="awards"),
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
    path("<slug:institution>/awards/bulk/", list_views.awards_bulk, name="awards_bulk"),
    path(
        "<slug:institution>/awards/export.csv",
        list_views.awards_export,
        {"fmt": "csv"},
        name="awards_export_csv",
    ),
    path(
        "<slug:institution>/awards/export.xlsx",
        list_views.awards_export,
        {"fmt": "xlsx"},
        name="awards_export_xlsx",
    ),
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
