"""Integration URLs: the OAuth 2.0 authorisation server under ``/oauth/`` and the REST API v1
under ``/api/v1/``."""

from django.urls import include, path
from oauth2_provider import views as oauth_views

from integrations.v1 import awards as api

# DOT's views, under the namespace its metadata view reverses.
oauth_patterns = [
    path("authorize/", oauth_views.AuthorizationView.as_view(), name="authorize"),
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", oauth_views.IntrospectTokenView.as_view(), name="introspect"),
]

urlpatterns = [
    path("oauth/", include((oauth_patterns, "oauth2_provider"))),
    path(
        ".well-known/oauth-authorization-server",
        oauth_views.OAuthServerMetadataView.as_view(),
        name="oauth_metadata",
    ),
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
