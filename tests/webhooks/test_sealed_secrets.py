"""A webhook endpoint's signing secret is stored sealed under the key-encryption key: the
database alone (a dump, a backup) reveals no secret, while deliveries still sign with it."""

from __future__ import annotations

import pytest
from django.db import connection
from pytest_django.fixtures import Settings as SettingsWrapper

from issuers.keys import SigningUnavailable
from tests.base import Cast
from webhooks import services
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def _stored(endpoint: Endpoint) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret, previous_secret FROM webhooks_endpoint WHERE id = %s", [endpoint.pk]
        )
        row = cursor.fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def test_the_database_holds_no_secret_in_clear(cast: Cast, endpoint: Endpoint) -> None:
    shown = endpoint.secret
    assert shown.startswith("whsec_")
    secret, previous = _stored(endpoint)
    assert secret.startswith("sealed1:") and shown not in secret and "whsec_" not in secret
    assert previous == ""
    assert Endpoint.objects.get(pk=endpoint.pk).secret == shown

    rotated = services.rotate_secret(actor=cast.owner, endpoint=endpoint)
    secret, previous = _stored(rotated)
    assert "whsec_" not in secret + previous
    again = Endpoint.objects.get(pk=endpoint.pk)
    assert again.previous_secret == shown and again.secret == rotated.secret != shown


def test_without_the_right_key_encryption_key_nothing_is_read(
    endpoint: Endpoint, settings: SettingsWrapper
) -> None:
    settings.INSIGNIA_KEY_ENCRYPTION_KEY = "A" * 43  # 32 other bytes
    with pytest.raises(SigningUnavailable):
        Endpoint.objects.get(pk=endpoint.pk)
