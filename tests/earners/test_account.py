"""A learner takes all their data away in one zip, and can delete their account."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.test import Client

from accounts.models import User
from badges.models import Award
from earners import services
from earners.models import AwardPreference, Collection, LearnerEmail
from tests.badges.helpers import award, make_published
from tests.base import PASSWORD, Cast
from tests.earners.helpers import make_learner

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(cast: Cast) -> Award:
    return award(cast.awarder, make_published(cast.editor, cast.issuer), email="lee@example.com")


def test_the_export_holds_each_signed_credential_and_a_summary(
    client: Client, cast: Cast, mine: Award
) -> None:
    learner = make_learner("lee@example.com", "lee@work.example")
    services.create_collection(user=learner, name="Jobs", awards=[mine])
    client.force_login(learner)

    response = client.get("/backpack/account/export.zip")

    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.read(f"credentials/{mine.pk}.json").decode() == mine.credential_json
    summary = json.loads(archive.read("summary.json"))
    assert summary["account"]["email"] == "lee@example.com"
    assert {a["email"] for a in summary["addresses"]} == {"lee@example.com", "lee@work.example"}
    assert summary["collections"][0]["name"] == "Jobs"
    assert summary["badges"][0]["id"] == str(mine.pk)


def test_the_export_never_contains_another_learners_badges(
    client: Client, cast: Cast, mine: Award
) -> None:
    make_learner("lee@example.com")
    client.force_login(make_learner("bob@example.com"))
    archive = zipfile.ZipFile(io.BytesIO(client.get("/backpack/account/export.zip").content))
    assert archive.namelist() == ["summary.json"]


def test_deleting_the_account_needs_the_password_and_keeps_privacy_in_force(
    client: Client, mine: Award
) -> None:
    learner = make_learner("lee@example.com")
    services.claim_preferences(user=learner, awards=[mine])
    collection = services.create_collection(user=learner, name="Jobs", awards=[mine])
    client.force_login(learner)

    refused = client.post("/backpack/account/", {"password": "wrong"})
    assert refused.status_code == 400
    assert User.objects.filter(pk=learner.pk).exists()

    done = client.post("/backpack/account/", {"password": PASSWORD})

    assert done.status_code == 302
    assert not User.objects.filter(pk=learner.pk).exists()
    assert not LearnerEmail.objects.exists()
    assert not Collection.objects.exists()
    assert client.get(f"/shared/{collection.token}").status_code == 404
    assert AwardPreference.objects.get(award=mine).show_name is False
    assert "Lee Learner" not in client.get(f"/credentials/{mine.pk}").content.decode()


def test_staff_cannot_delete_their_account_from_the_backpack(client: Client, cast: Cast) -> None:
    client.force_login(cast.editor)
    response = client.post("/backpack/account/", {"password": PASSWORD})
    assert response.status_code == 400
    assert User.objects.filter(pk=cast.editor.pk).exists()
