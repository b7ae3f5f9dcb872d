"""Public frameworks pages and API (``urlpatterns``) and the console's frameworks pages
(``manage_patterns``, included under ``/manage/``). The review of a flagged pathway
completion (``manage:pathway_review``) is routed by the awarding layer, which may revoke the
pathway credential."""

from __future__ import annotations

from django.urls import path

from frameworks.catalogue import api as catalogue_api
from frameworks.catalogue import views as catalogue
from frameworks.competencies import views as competencies
from frameworks.equivalence import api as equivalence_api
from frameworks.equivalence import views as equivalence
from frameworks.pathways import views as pathways
from frameworks.recognition import views as recognition

urlpatterns = [
    path("frameworks/<slug:code>", catalogue.framework_public, name="framework_public"),
    path(
        "pathways/completions/<uuid:completion>.json",
        pathways.pathway_clr,
        name="pathway_clr",
    ),
    path("api/v1/frameworks", catalogue_api.FrameworkListAPI.as_view(), name="api_frameworks"),
    path(
        "api/v1/achievements/<uuid:achievement>/placement",
        catalogue_api.PlacementAPI.as_view(),
        name="api_placement",
    ),
    # The public register of equivalence statements, page and API.
    path("equivalences", equivalence.register, name="equivalence_register"),
    path(
        "equivalences/<uuid:statement>",
        equivalence.public_statement,
        name="equivalence_public",
    ),
    path(
        "api/v1/equivalences",
        equivalence_api.EquivalenceListAPI.as_view(),
        name="api_equivalences",
    ),
    path(
        "api/v1/equivalences/<uuid:statement>",
        equivalence_api.EquivalenceAPI.as_view(),
        name="api_equivalence",
    ),
    # The pages that the URIs minted for custom competency frameworks and items resolve to.
    path(
        "competencies/<uuid:framework>",
        competencies.competency_framework_public,
        name="competency_framework_public",
    ),
    path(
        "competencies/<uuid:framework>/<uuid:item>",
        competencies.competency_item_public,
        name="competency_item_public",
    ),
]

manage_patterns = [
    # Catalogue: policies, reference frameworks, a version's placement.
    path("<slug:institution>/frameworks/", catalogue.overview, name="frameworks"),
    path(
        "<slug:institution>/achievements/<uuid:achievement>/placement/",
        catalogue.placement,
        name="achievement_placement",
    ),
    # Competency frameworks: imports, the skill search, the editor of custom frameworks.
    path(
        "<slug:institution>/frameworks/import/",
        competencies.competencies_import,
        name="competencies_import",
    ),
    path(
        "<slug:institution>/frameworks/competencies/search/",
        competencies.competencies_search,
        name="competencies_search",
    ),
    path(
        "<slug:institution>/frameworks/competencies/new/",
        competencies.competency_framework_create,
        name="competency_framework_create",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/",
        competencies.competency_framework,
        name="competency_framework",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/edit/",
        competencies.competency_framework_edit,
        name="competency_framework_edit",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/items/new/",
        competencies.competency_item_create,
        name="competency_item_create",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/items/<int:item>/",
        competencies.competency_item_edit,
        name="competency_item_edit",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/items/<int:item>/move/",
        competencies.competency_item_move,
        name="competency_item_move",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/items/<int:item>/retire/",
        competencies.competency_item_retire,
        name="competency_item_retire",
    ),
    path(
        "<slug:institution>/frameworks/competencies/<int:framework>/items/<int:item>/delete/",
        competencies.competency_item_delete,
        name="competency_item_delete",
    ),
    # Pathways: the list with progress and review flags, the editor.
    path("<slug:institution>/pathways/", pathways.pathway_list, name="pathways"),
    path("<slug:institution>/pathways/new/", pathways.pathway_create, name="pathway_create"),
    path(
        "<slug:institution>/pathways/deactivated/",
        pathways.pathways_deactivated,
        name="pathways_deactivated",
    ),
    path(
        "<slug:institution>/pathways/<uuid:pathway>/edit/",
        pathways.pathway_edit,
        name="pathway_edit",
    ),
    path(
        "<slug:institution>/pathways/<uuid:pathway>/active/",
        pathways.pathway_set_active,
        name="pathway_set_active",
    ),
    # Recognition of prior learning and equivalence statements.
    path("<slug:institution>/recognition/", recognition.case_list, name="recognition"),
    path(
        "<slug:institution>/recognition/equivalences/",
        equivalence.statement_list,
        name="equivalences",
    ),
    path(
        "<slug:institution>/recognition/equivalences/new/",
        equivalence.statement_create,
        name="equivalence_create",
    ),
    path(
        "<slug:institution>/recognition/equivalences/<uuid:statement>/",
        equivalence.statement_detail,
        name="equivalence_detail",
    ),
    path(
        "<slug:institution>/recognition/<uuid:case>/",
        recognition.case_detail,
        name="recognition_case",
    ),
]
