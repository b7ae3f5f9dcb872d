"""The analytics page in the console (``manage_patterns``) and the public counting redirect
of the LinkedIn buttons."""

from django.urls import path

from analytics import views

manage_patterns = [
    path("<slug:institution>/analytics/", views.analytics, name="analytics"),
]

urlpatterns = [
    path(
        "credentials/<uuid:award_id>/linkedin/<slug:target>",
        views.share_linkedin,
        name="share_linkedin",
    ),
]
