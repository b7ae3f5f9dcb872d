from django.urls import path

from verification import api, views

urlpatterns = [
    path("verify", views.verify, name="verify"),
    path("verify/receipts", views.receipt_create, name="verification_receipt_create"),
    path("verify/receipts/<uuid:receipt_id>", views.receipt, name="verification_receipt"),
    path(
        "verify/receipts/<uuid:receipt_id>.json",
        views.receipt,
        {"as_json": True},
        name="verification_receipt_json",
    ),
    path(".well-known/did.json", views.platform_did, name="platform_did"),
    path("api/v1/verify", api.VerifyAPI.as_view(), name="api_verify"),
]
