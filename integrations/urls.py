"""Integration URLs: the OAuth 2.0 authorisation server under ``/oauth/``, the REST API v1
under ``/api/v1/`` (``integrations.v1``), its OpenAPI document (``/api/schema/``) and its
rendered reference (``/api/docs/``)."""

from django.urls import include, path
from oauth2_provider import views as oauth_views

from integrations.oauth.views import OwnTokensIntrospectView, StaffAuthorizationView
from integrations.v1 import (
    achievements,
    awards,
    batches,
    docs,
    editing,
    issuers,
    pathways,
    revocation,
    webhooks,
)

# DOT's views, under the namespace its metadata view reverses.
oauth_patterns = [
    path("authorize/", StaffAuthorizationView.as_view(), name="authorize"),
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", OwnTokensIntrospectView.as_view(), name="introspect"),
]

urlpatterns = [
    path("oauth/", include((oauth_patterns, "oauth2_provider"))),
    path(
        ".well-known/oauth-authorization-server",
        oauth_views.OAuthServerMetadataView.as_view(),
        name="oauth_metadata",
    ),
    # The REST API v1 (integrations.v1), its OpenAPI document and rendered reference.
    path("api/schema/", docs.SchemaView.as_view(), name="api_schema"),
    path("api/docs/", docs.reference, name="api_docs"),
    path("api/docs/redoc.standalone.js", docs.redoc_script, name="api_docs_redoc"),
    path("api/v1/issuers", issuers.IssuerListAPI.as_view(), name="api_issuers"),
    path("api/v1/achievements", editing.AchievementsRoute.as_view(), name="api_achievements"),
    path(
        "api/v1/achievements/<uuid:achievement_id>",
        achievements.AchievementAPI.as_view(),
        name="api_achievement",
    ),
    path(
        "api/v1/achievements/<uuid:achievement_id>/draft",
        editing.DraftAPI.as_view(),
        name="api_achievement_draft",
    ),
    path(
        "api/v1/achievements/<uuid:achievement_id>/publish",
        editing.PublishAPI.as_view(),
        name="api_achievement_publish",
    ),
    path(
        "api/v1/achievements/<uuid:achievement_id>/versions",
        achievements.VersionListAPI.as_view(),
        name="api_versions",
    ),
    path(
        "api/v1/achievements/<uuid:achievement_id>/versions/<int:number>",
        achievements.VersionAPI.as_view(),
        name="api_version",
    ),
    path(
        "api/v1/achievements/<uuid:achievement_id>/awards",
        awards.AwardAchievementAPI.as_view(),
        name="api_award_achievement",
    ),
    path("api/v1/awards", awards.AwardListAPI.as_view(), name="api_awards"),
    path("api/v1/awards/<uuid:award_id>", awards.AwardAPI.as_view(), name="api_award"),
    path(
        "api/v1/awards/<uuid:award_id>/revoke",
        revocation.RevokeAwardAPI.as_view(),
        name="api_revoke",
    ),
    path(
        "api/v1/awards/<uuid:award_id>/suspend",
        revocation.SuspendAwardAPI.as_view(),
        name="api_suspend",
    ),
    path(
        "api/v1/awards/<uuid:award_id>/reinstate",
        revocation.ReinstateAwardAPI.as_view(),
        name="api_reinstate",
    ),
    path(
        "api/v1/institutions/<slug:institution>/awards/revoke",
        revocation.BulkRevokeAPI.as_view(),
        name="api_bulk_revoke",
    ),
    path("api/v1/batches", batches.BatchesRoute.as_view(), name="api_batches"),
    path("api/v1/batches/<uuid:batch_id>", batches.BatchAPI.as_view(), name="api_batch"),
    path(
        "api/v1/batches/<uuid:batch_id>/rows",
        batches.RowListAPI.as_view(),
        name="api_batch_rows",
    ),
    path(
        "api/v1/batches/<uuid:batch_id>/start",
        batches.StartBatchAPI.as_view(),
        name="api_batch_start",
    ),
    path("api/v1/pathways", pathways.PathwayListAPI.as_view(), name="api_pathways"),
    path("api/v1/pathways/<uuid:pathway_id>", pathways.PathwayAPI.as_view(), name="api_pathway"),
    path(
        "api/v1/pathways/<uuid:pathway_id>/completions",
        pathways.CompletionListAPI.as_view(),
        name="api_pathway_completions",
    ),
    path(
        "api/v1/institutions/<slug:institution>/webhooks",
        webhooks.EndpointsRoute.as_view(),
        name="api_webhooks",
    ),
    path(
        "api/v1/institutions/<slug:institution>/webhooks/<uuid:endpoint_id>",
        webhooks.EndpointAPI.as_view(),
        name="api_webhook",
    ),
    path(
        "api/v1/institutions/<slug:institution>/webhooks/<uuid:endpoint_id>/rotate-secret",
        webhooks.RotateSecretAPI.as_view(),
        name="api_webhook_rotate",
    ),
    path(
        "api/v1/institutions/<slug:institution>/webhooks/<uuid:endpoint_id>/test",
        webhooks.TestEventAPI.as_view(),
        name="api_webhook_test",
    ),
    path(
        "api/v1/institutions/<slug:institution>/webhooks/<uuid:endpoint_id>/deliveries",
        webhooks.DeliveryListAPI.as_view(),
        name="api_webhook_deliveries",
    ),
    path(
        "api/v1/institutions/<slug:institution>/webhooks/<uuid:endpoint_id>/deliveries/"
        "<uuid:delivery_id>/redeliver",
        webhooks.RedeliverAPI.as_view(),
        name="api_webhook_redeliver",
    ),
]
