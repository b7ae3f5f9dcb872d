"""Public issuer URLs: profile and did:web document."""

from django.urls import path

from issuers import public

urlpatterns = [
    path("issuers/<slug:slug>", public.profile, name="issuer_profile"),
    path("issuers/<slug:slug>/did.json", public.did_document, name="issuer_did"),
]
