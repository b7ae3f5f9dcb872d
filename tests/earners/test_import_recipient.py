"""Importing into the backpack a genuine badge that was issued to someone else (review
defect D29): the import checks the recipient against the learner's confirmed addresses and
identifiers; it refuses such a badge, and one kept anyway is never shown as plainly valid."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from earners import services
from earners.imports import services as import_services
from earners.models import ImportedBadge, LearnerEmail
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.earners.helpers import make_identity, make_learner

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    cache.clear()


def test_a_genuine_badge_issued_to_someone_else_is_refused(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    theirs = award(cast.awarder, version, email="ana@example.com", name="Ana Tester")
    client.force_login(make_learner("lee@example.com"))

    response = client.post("/backpack/imports/", {"text": theirs.credential_json})

    assert response.status_code == 400
    assert "issued to someone else" in response.content.decode()
    assert not ImportedBadge.objects.exists()
    assert 'data-import-verdict="valid"' not in client.get("/backpack/").content.decode()


def test_a_badge_issued_to_a_confirmed_address_or_identifier_is_imported(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    by_email = award(cast.awarder, version, email="lee@example.com")
    by_number = award(
        cast.awarder, version, email="", identifier="S1234", identifier_type="studentId"
    )
    learner = make_learner("lee@example.com")
    make_identity(learner, cast.institution, "S1234")
    client.force_login(learner)

    for issued in (by_email, by_number):
        assert (
            client.post("/backpack/imports/", {"text": issued.credential_json}).status_code == 302
        )
    assert set(ImportedBadge.objects.values_list("report__recipient", flat=True)) == {"yours"}
    page = client.get("/backpack/").content.decode()
    assert page.count('data-import-recipient="yours"') == 2
    assert "Not issued to you" not in page


def test_a_kept_badge_whose_address_was_removed_shows_not_issued_to_you(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version, email="old@example.com")
    learner = make_learner("lee@example.com", "old@example.com")
    client.force_login(learner)
    client.post("/backpack/imports/", {"text": issued.credential_json})
    imported = ImportedBadge.objects.get()
    assert imported.report["recipient"] == "yours"

    services.remove_email(
        user=learner, address_id=LearnerEmail.objects.get(email="old@example.com").pk
    )
    import_services.recheck_import(imported=imported)

    page = client.get("/backpack/").content.decode()
    assert 'data-import-recipient="not_yours"' in page
    assert "Not issued to you" in page
    # The verify verdict alone would say "valid"; the card must not.
    card = page.split('data-import-recipient="not_yours"')[1].split("</li>")[0]
    assert "status-valid" not in card
