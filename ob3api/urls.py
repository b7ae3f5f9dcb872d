"""The Open Badges 3.0 API under ``/ims/ob/v3p0/`` and the learner's "Connected apps" page
under ``/backpack/apps/``. Included at the root under the ``ob3api`` namespace."""

from django.urls import path, re_path

from ob3api import api, views

app_name = "ob3api"

urlpatterns = [
    path("ims/ob/v3p0/discovery", api.DiscoveryAPI.as_view(), name="discovery"),
    path("ims/ob/v3p0/register", api.RegisterAPI.as_view(), name="register"),
    path("ims/ob/v3p0/authorize", views.WalletAuthorizationView.as_view(), name="authorize"),
    path("ims/ob/v3p0/credentials", api.CredentialsAPI.as_view(), name="credentials"),
    path("ims/ob/v3p0/profile", api.ProfileAPI.as_view(), name="profile"),
    re_path(r"^ims/ob/v3p0/", api.UnknownAPI.as_view(), name="unknown"),
    path("backpack/apps/", views.connected_apps, name="connected_apps"),
    path("backpack/apps/about", views.about, name="about"),
]
