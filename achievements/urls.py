"""The console's micro-credential pages (``manage`` namespace). Every pattern is listed in
``tests/issuers/test_tenant_isolation.py``."""

from django.urls import path

from achievements import views

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
]
