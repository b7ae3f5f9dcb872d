from django.urls import path

from verification import views

urlpatterns = [path("verify", views.verify, name="verify")]
