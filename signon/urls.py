"""Campus sign-on routes: the public sign-in ones here (``signon`` namespace), the owner's
settings pages in ``manage_patterns`` (mounted under /manage/)."""

from django.urls import include, path

from signon import console_views, views

app_name = "signon"

urlpatterns = [
    path("signon/", views.choose, name="choose"),
    path("signon/<slug:institution>/", views.start, name="start"),
    path("signon/<slug:institution>/saml/", include("signon.saml_urls")),
    path("signon/<slug:institution>/oidc/", include("signon.oidc_urls")),
]

manage_patterns = [
    path("<slug:institution>/signon/", console_views.settings_page, name="signon"),
    path(
        "<slug:institution>/signon/<str:protocol>/",
        console_views.provider_edit,
        name="signon_edit",
    ),
    path(
        "<slug:institution>/signon/providers/<uuid:provider>/remove/",
        console_views.provider_remove,
        name="signon_remove",
    ),
]
