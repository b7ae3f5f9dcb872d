"""Wallet delivery: the OID4VCI issuer's endpoints, the learner's offer page, and the
Learner Credential Wallet's VC-API exchange (``wallets.urls_vcapi``)."""

from django.urls import include, path

from wallets import oid4vci, views

app_name = "wallets"

urlpatterns = [
    path(
        ".well-known/openid-credential-issuer",
        oid4vci.issuer_metadata,
        name="issuer_metadata",
    ),
    # RFC 8414 §3.1: the metadata of the authorisation server whose issuer is <base>/oid4vci.
    path(
        ".well-known/oauth-authorization-server/oid4vci",
        oid4vci.authorization_server_metadata,
        name="authorization_server_metadata",
    ),
    path("oid4vci/offers/<str:code>", oid4vci.credential_offer, name="credential_offer"),
    path("oid4vci/token", oid4vci.token, name="token"),
    path("oid4vci/nonce", oid4vci.nonce, name="nonce"),
    path("oid4vci/credential", oid4vci.credential, name="credential"),
    path("backpack/badges/<uuid:award_id>/wallet/", views.offer_page, name="offer"),
    path("claim/<str:token>/wallet/", views.claim_offer_page, name="claim_offer"),
    path("", include("wallets.urls_vcapi")),
]
