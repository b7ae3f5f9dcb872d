"""Public framework pages (``urlpatterns``) and the console's frameworks pages
(``manage_patterns``)."""

from __future__ import annotations

from django.urls import path

from frameworks import api, views

urlpatterns = [
    path("frameworks/<slug:code>", views.framework_public, name="framework_public"),
    path(
        "pathways/completions/<uuid:completion>.json",
        views.pathway_clr,
        name="pathway_clr",
    ),
    path("api/v1/frameworks", api.FrameworkListAPI.as_view(), name="api_frameworks"),
    path(
        "api/v1/achievements/<uuid:achievement>/placement",
        api.PlacementAPI.as_view(),
        name="api_placement",
    ),
]

manage_patterns = [
    path("<slug:institution>/pathways/", views.pathway_list, name="pathways"),
    path("<slug:institution>/recognition/", views.case_list, name="recognition"),
    path(
        "<slug:institution>/recognition/<uuid:case>/",
        views.case_detail,
        name="recognition_case",
    ),
    path("<slug:institution>/frameworks/", views.overview, name="frameworks"),
    path(
        "<slug:institution>/frameworks/import/",
        views.competencies_import,
        name="competencies_import",
    ),
    path(
        "<slug:institution>/frameworks/competencies/search/",
        views.competencies_search,
        name="competencies_search",
    ),
    path(
        "<slug:institution>/achievements/<uuid:achievement>/placement/",
        views.placement,
        name="achievement_placement",
    ),
]
