"""The health check answers probes by any address, and only says whether the database is up."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@override_settings(ALLOWED_HOSTS=["badges.example.edu"], SECURE_SSL_REDIRECT=True)
def test_a_probe_by_internal_address_gets_ok() -> None:
    response = Client().get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@override_settings(ALLOWED_HOSTS=["badges.example.edu"])
def test_other_pages_still_refuse_unknown_hosts() -> None:
    assert Client().get("/", HTTP_HOST="10.1.2.3:8000").status_code == 400
