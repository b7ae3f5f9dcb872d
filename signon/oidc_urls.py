"""OpenID Connect relying party routes under /signon/<institution>/oidc/ (``signon`` namespace)."""

from django.urls import path

from signon import oidc_views

urlpatterns = [
    path("login/", oidc_views.login, name="oidc_login"),
    path("callback/", oidc_views.callback, name="oidc_callback"),
]
