"""The console's OAuth and token pages, under the ``manage`` namespace (``manage_patterns``,
included by ``insignia/urls.py``): an institution's API clients, and each person's own API
access under ``account/`` (a reserved institution slug).

Every pattern is listed in ``tests/issuers/test_tenant_isolation.py``.
"""

from django.urls import path

from integrations.oauth import views

manage_patterns = [
    path("account/tokens/", views.account_tokens, name="account_tokens"),
    path(
        "account/tokens/<uuid:token>/revoke/",
        views.account_token_revoke,
        name="account_token_revoke",
    ),
    path(
        "account/apps/<str:client>/disconnect/",
        views.account_app_disconnect,
        name="account_app_disconnect",
    ),
    path("<slug:institution>/api/clients/", views.api_clients, name="api_clients"),
    path(
        "<slug:institution>/api/clients/<str:client>/revoke/",
        views.api_client_revoke,
        name="api_client_revoke",
    ),
]
