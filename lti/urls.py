"""The LTI tool's public routes (``lti`` namespace): what an LMS is given, and the pages a
person sees after launching. The owner's console pages are in ``lti.console_urls``."""

from django.urls import path

from lti import views

app_name = "lti"

urlpatterns = [
    path("lti/register/<str:token>/", views.register, name="register"),
    path("lti/<slug:institution>/login/", views.login, name="login"),
    path("lti/<slug:institution>/launch/", views.launch, name="launch"),
    path("lti/<slug:institution>/jwks.json", views.jwks, name="jwks"),
    path("lti/<slug:institution>/launches/<str:key>/finish/", views.finish, name="finish"),
    path("lti/<slug:institution>/launches/<str:key>/", views.page, name="page"),
    path("lti/<slug:institution>/launches/<str:key>/connect/", views.connect, name="connect"),
]
