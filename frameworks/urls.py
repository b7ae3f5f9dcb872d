"""Public framework pages (``urlpatterns``) and the console's frameworks pages
(``manage_patterns``)."""

from __future__ import annotations

from django.urls import path

from frameworks import api, editors, equivalence_views, views

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
    # Issue #7: the public register of equivalence statements, page and API.
    path("equivalences", equivalence_views.register, name="equivalence_register"),
    path(
        "equivalences/<uuid:statement>",
        equivalence_views.public_statement,
        name="equivalence_public",
    ),
    path("api/v1/equivalences", api.EquivalenceListAPI.as_view(), name="api_equivalences"),
    path(
        "api/v1/equivalences/<uuid:statement>",
        api.EquivalenceAPI.as_view(),
        name="api_equivalence",
    ),
]

manage_patterns = [
    path("<slug:institution>/pathways/", views.pathway_list, name="pathways"),
    path("<slug:institution>/recognition/", views.case_list, name="recognition"),
    path(
        "<slug:institution>/recognition/equivalences/",
        equivalence_views.statement_list,
        name="equivalences",
    ),
    path(
        "<slug:institution>/recognition/equivalences/new/",
        equivalence_views.statement_create,
        name="equivalence_create",
    ),
    path(
        "<slug:institution>/recognition/equivalences/<uuid:statement>/",
        equivalence_views.statement_detail,
        name="equivalence_detail",
    ),
    path(
        "<slug:institution>/pathways/completions/<uuid:completion>/review/",
        views.pathway_review,
        name="pathway_review",
    ),
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

# Issue #7: custom competency frameworks and pathways edited in the console; the public pages
# that the URIs minted for custom frameworks and their items resolve to.
urlpatterns += [
    path(
        "competencies/<uuid:framework>",
        editors.competency_framework_public,
        name="competency_framework_public",
    ),
    path(
        "competencies/<uuid:framework>/<uuid:item>",
        editors.competency_item_public,
        name="competency_item_public",
    ),
]

manage_patterns += [
    path(
        "<slug:institution>/frameworks/competencies/new/",
        editors.competency_framework_create,
        name="competency_framework_create",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/",
        editors.competency_framework,
        name="competency_framework",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/edit/",
        editors.competency_framework_edit,
        name="competency_framework_edit",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/items/new/",
        editors.competency_item_create,
        name="competency_item_create",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/items/<int:item>/",
        editors.competency_item_edit,
        name="competency_item_edit",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/items/<int:item>/move/",
        editors.competency_item_move,
        name="competency_item_move",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/items/<int:item>/retire/",
        editors.competency_item_retire,
        name="competency_item_retire",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/items/<int:item>/delete/",
        editors.competency_item_delete,
        name="competency_item_delete",
    ),
    path("<slug:institution>/pathways/new/", editors.pathway_create, name="pathway_create"),
    path(
        "<slug:institution>/pathways/deactivated/",
        editors.pathways_deactivated,
        name="pathways_deactivated",
    ),
    path(
        "<slug:institution>/pathways/<uuid:pathway>/edit/",
        editors.pathway_edit,
        name="pathway_edit",
    ),
    path(
        "<slug:institution>/pathways/<uuid:pathway>/active/",
        editors.pathway_set_active,
        name="pathway_set_active",
    ),
]
