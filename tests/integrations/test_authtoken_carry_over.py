"""DRF's ``authtoken`` kept staff keys in plain text. Migration ``integrations 0002`` carries
each key over as a hashed staff token and drops the table: the old key keeps working, and the
raw key is gone from the database."""

from __future__ import annotations

import hashlib
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from integrations.models import StaffToken
from tests.badges.helpers import make_published
from tests.base import Cast

pytestmark = pytest.mark.django_db

carry_over = import_module("integrations.migrations.0002_staff_tokens_from_authtoken").carry_over


def test_an_old_drf_key_keeps_working_and_only_its_hash_is_left(cast: Cast) -> None:
    version = make_published(cast.owner, cast.issuer)
    key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, "
            "created timestamptz)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, now() - interval '30 days')",
            [key, cast.editor.pk],
        )

    with connection.schema_editor() as editor:
        carry_over(apps, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    stored = StaffToken.objects.get()
    assert stored.user == cast.editor
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    answer = Client(HTTP_AUTHORIZATION=f"Token {key}").get(
        f"/api/v1/achievements/{version.achievement_id}"
    )
    assert answer.status_code == 200, answer.content
    assert Client(HTTP_AUTHORIZATION=f"Token {key[:-1]}x").get("/api/v1/awards").status_code == 401
