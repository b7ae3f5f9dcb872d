"""Public badge URLs (``urlpatterns``) and the console's badge pages (``manage_patterns``).

Every console pattern is listed in ``tests/issuers/test_tenant_isolation.py``.
"""

from django.urls import path

from badges import public, views

urlpatterns = [
    path("credentials/<uuid:award_id>", public.credential, name="credential"),
    path(
        "credentials/<uuid:award_id>.json",
        public.credential,
        {"as_json": True},
        name="credential_json",
    ),
    path("achievements/<uuid:achievement_id>", public.achievement, name="achievement"),
    path(
        "achievements/<uuid:achievement_id>/v/<int:number>",
        public.achievement_version,
        name="achievement_version",
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
]
