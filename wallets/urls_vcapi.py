"""The Learner Credential Wallet's VC-API exchange (included by ``wallets/urls.py``, under the
``wallets`` namespace)."""

from django.urls import URLPattern, path

from wallets import vcapi

urlpatterns: list[URLPattern] = [
    path("lcw/exchanges/<str:exchange_id>", vcapi.exchange, name="lcw_exchange"),
]
