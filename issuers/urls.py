"""Issuer URLs: the public did:web document (``urlpatterns``) and the console's institution
pages under the ``manage`` namespace (``manage_patterns``).

Every console pattern is listed in ``tests/issuers/test_tenant_isolation.py``; a new one
without an entry there fails the suite.
"""

from django.urls import path

from issuers import views

urlpatterns = [
    path("issuers/<slug:slug>/did.json", views.did_document, name="issuer_did"),
    path("registry/issuers.json", views.issuer_registry, name="issuer_registry"),
    path("registry/known-registries.json", views.known_registries, name="known_registries"),
]

manage_patterns = [
    # A fixed prefix first: ``invitations`` is a reserved institution slug.
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("", views.home, name="home"),
    path("<slug:institution>/settings/", views.institution_settings, name="settings"),
    path("<slug:institution>/issuers/", views.issuer_list, name="issuers"),
    path("<slug:institution>/issuers/new/", views.issuer_create, name="issuer_create"),
    path("<slug:institution>/issuers/<slug:issuer>/edit/", views.issuer_edit, name="issuer_edit"),
    path("<slug:institution>/members/", views.members, name="members"),
    path("<slug:institution>/members/invite/", views.member_invite, name="member_invite"),
    path(
        "<slug:institution>/members/<int:membership>/role/", views.member_role, name="member_role"
    ),
    path(
        "<slug:institution>/members/<int:membership>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path(
        "<slug:institution>/invitations/<uuid:invitation>/cancel/",
        views.invitation_cancel,
        name="invitation_cancel",
    ),
    path("<slug:institution>/audit/", views.audit_log, name="audit"),
    path("<slug:institution>/issuers/<slug:issuer>/keys/", views.issuer_keys, name="issuer_keys"),
    path(
        "<slug:institution>/issuers/<slug:issuer>/keys/rotate/",
        views.issuer_key_rotate,
        name="issuer_key_rotate",
    ),
    path(
        "<slug:institution>/issuers/<slug:issuer>/keys/<slug:key_id>/withdraw/",
        views.issuer_key_withdraw,
        name="issuer_key_withdraw",
    ),
]
