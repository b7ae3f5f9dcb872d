"""SAML 2.0 service provider routes under /signon/<institution>/saml/ (``signon`` namespace)."""

from django.urls import path

from signon import saml_views

urlpatterns = [
    path("metadata/", saml_views.metadata, name="saml_metadata"),
    path("login/", saml_views.login, name="saml_login"),
    path("acs/", saml_views.acs, name="saml_acs"),
    path("finish/", saml_views.finish, name="saml_finish"),
    path("logout/", saml_views.logout, name="saml_logout"),
    path("sls/", saml_views.sls, name="saml_sls"),
]
