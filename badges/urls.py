"""Public badge URLs (``urlpatterns``) and the console's badge pages (``manage_patterns``).

Every console pattern is listed in ``tests/issuers/test_tenant_isolation.py``.
"""

from django.urls import path

from badges import api, award_api, bulk_views, claim, ob2_views, public, status, token_views, views

urlpatterns = [
    path("credentials/<uuid:award_id>", public.credential, name="credential"),
    path(
        "credentials/<uuid:award_id>.json",
        public.credential,
        {"as_json": True},
        name="credential_json",
    ),
    path("achievements/<uuid:achievement_id>", public.achievement, name="achievement"),
    # Issue #6: status lists (BitstringStatusListCredential) and an award's status entries.
    path("status/<uuid:status_list_id>", status.status_list_view, name="status_list"),
    path(
        "credentials/<uuid:award_id>/status",
        status.credential_status_view,
        name="credential_status",
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
    path(
        "achievements/<uuid:achievement_id>/v/<int:number>",
        public.achievement_version,
        name="achievement_version",
    ),
]

# Baked images, share cards and OB 2.0 hosted objects (issue #4).
urlpatterns += [
    path(
        "credentials/<uuid:award_id>.png",
        public.credential_baked,
        {"fmt": "png"},
        name="credential_baked_png",
    ),
    path(
        "credentials/<uuid:award_id>.svg",
        public.credential_baked,
        {"fmt": "svg"},
        name="credential_baked_svg",
    ),
    path(
        "credentials/<uuid:award_id>/preview.png",
        public.credential_preview,
        name="credential_preview",
    ),
    path(
        "credentials/<uuid:award_id>/wechat.png",
        public.credential_wechat,
        name="credential_wechat",
    ),
    path(
        "achievements/<uuid:achievement_id>/preview.png",
        public.achievement_preview,
        name="achievement_preview",
    ),
    path(
        "achievements/<uuid:achievement_id>/v/<int:number>/image",
        ob2_views.achievement_image,
        name="achievement_image",
    ),
    path("issuers/<slug:slug>/preview.png", public.issuer_preview, name="issuer_preview"),
    path("ob2/assertions/<uuid:award_id>", ob2_views.assertion, name="ob2_assertion"),
    path("ob2/assertions/<uuid:award_id>.png", ob2_views.assertion_png, name="ob2_assertion_png"),
    path("ob2/badges/<uuid:achievement_id>", ob2_views.badge, name="ob2_badge"),
    path(
        "ob2/badges/<uuid:achievement_id>/v/<int:number>",
        ob2_views.badge_version,
        name="ob2_badge_version",
    ),
    path("ob2/issuers/<slug:slug>", ob2_views.issuer, name="ob2_issuer"),
]

# Issue #8: the learner's claim link, the e-mail's "opened" pixel, the awarding API.
urlpatterns += [
    path("claim/<str:token>", claim.claim, name="claim"),
    path("claim/<str:token>/opened.gif", claim.claim_opened, name="claim_opened"),
    path(
        "api/v1/achievements/<uuid:achievement_id>/awards",
        award_api.AwardAchievementAPI.as_view(),
        name="api_award_achievement",
    ),
]

manage_patterns = [
    path("<slug:institution>/achievements/", views.achievement_list, name="achievements"),
    path(
        "<slug:institution>/achievements/new/",
        views.achievement_create,
        name="achievement_create",
    ),
    path(
        "<slug:institution>/achievements/<uuid:achievement>/",
        views.achievement_detail,
        name="achievement_detail",
    ),
    path(
        "<slug:institution>/achievements/<uuid:achievement>/edit/",
        views.achievement_edit,
        name="achievement_edit",
    ),
    path(
        "<slug:institution>/achievements/<uuid:achievement>/preview/",
        views.achievement_preview,
        name="achievement_preview",
    ),
    path(
        "<slug:institution>/achievements/<uuid:achievement>/publish/",
        views.achievement_publish,
        name="achievement_publish",
    ),
    path(
        "<slug:institution>/achievements/<uuid:achievement>/award/",
        views.award_create,
        name="award_create",
    ),
    path("<slug:institution>/awards/", views.award_list, name="awards"),
    # Issue #6: revoke, suspend, reinstate, re-issue, bulk revoke.
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
    # Issue #8: bulk issuing and e-mail resends.
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
        "<slug:institution>/awards/<uuid:award>/resend/",
        views.award_resend,
        name="award_resend",
    ),
    # Issue #8: an issuer's API tokens (owners).
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
