"""Achievements and their immutable versions: drafts change, published versions never do."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from achievements import services
from badges import selectors
from badges.models import AchievementVersion, VersionStatus
from issuers.models import AuditEvent
from tests.badges.helpers import CONTENT, make_achievement, make_published
from tests.base import Cast

pytestmark = pytest.mark.django_db


def test_editing_a_published_version_creates_the_next_one(cast: Cast) -> None:
    published = make_published(cast.editor, cast.issuer)

    draft = services.save_draft(
        actor=cast.editor, achievement=published.achievement, name_en="Data Literacy II"
    )

    published.refresh_from_db()
    assert (published.number, published.status, published.name_en) == (
        1,
        VersionStatus.PUBLISHED,
        "Data Literacy",
    )
    assert (draft.number, draft.status, draft.name_en) == (
        2,
        VersionStatus.DRAFT,
        "Data Literacy II",
    )
    assert draft.criteria_en == CONTENT["criteria_en"]  # the rest is carried over
    assert draft.tags == CONTENT["tags"]


def test_saving_again_changes_the_same_draft(cast: Cast) -> None:
    achievement = make_achievement(cast.editor, cast.issuer)
    services.save_draft(actor=cast.editor, achievement=achievement, name_en="One")
    services.save_draft(actor=cast.editor, achievement=achievement, name_en="Two")
    assert list(achievement.versions.values_list("number", "name_en", "status")) == [
        (1, "Two", VersionStatus.DRAFT)
    ]


def test_a_published_version_cannot_be_published_again_or_edited_in_place(cast: Cast) -> None:
    published = make_published(cast.editor, cast.issuer)
    with pytest.raises(ValidationError, match="already published"):
        services.publish_version(actor=cast.editor, version=published)
    services.save_draft(actor=cast.editor, achievement=published.achievement, tags=["changed"])
    published.refresh_from_db()
    assert published.tags == CONTENT["tags"]


def test_the_database_allows_one_draft_per_achievement(cast: Cast) -> None:
    achievement = make_achievement(cast.editor, cast.issuer)
    with pytest.raises(IntegrityError), transaction.atomic():
        AchievementVersion.objects.create(achievement=achievement, number=2)


def test_publishing_needs_complete_text_in_some_language(cast: Cast) -> None:
    achievement = make_achievement(
        cast.editor, cast.issuer, criteria_en="", name_zh="", description_zh="", criteria_zh=""
    )
    draft = selectors.draft_of(achievement)
    assert draft is not None
    with pytest.raises(ValidationError) as caught:
        services.publish_version(actor=cast.editor, version=draft)
    assert "The English text needs a name, a description and criteria." in caught.value.messages
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_publishing_records_the_change_note_and_who_did_it(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    assert version.change_note == "First edition"
    assert version.published_at is not None
    assert AuditEvent.objects.filter(
        action="achievement.published", actor=cast.editor, target__endswith="v1"
    ).exists()


@pytest.mark.parametrize("role", ["awarder", "viewer", "outsider"])
def test_only_editors_and_owners_write_achievements(cast: Cast, role: str) -> None:
    actor = getattr(cast, role)
    with pytest.raises(PermissionDenied):
        make_achievement(actor, cast.issuer)
    achievement = make_achievement(cast.editor, cast.issuer)
    with pytest.raises(PermissionDenied):
        services.save_draft(actor=actor, achievement=achievement, name_en="Hacked")
    draft = selectors.draft_of(achievement)
    assert draft is not None
    with pytest.raises(PermissionDenied):
        services.publish_version(actor=actor, version=draft)
    draft.refresh_from_db()
    assert (draft.name_en, draft.status) == ("Data Literacy", VersionStatus.DRAFT)


def test_the_short_name_is_unique_per_issuer(cast: Cast) -> None:
    make_achievement(cast.editor, cast.issuer)
    with pytest.raises(ValidationError, match="already has"):
        make_achievement(cast.editor, cast.issuer)
    assert make_achievement(cast.outsider, cast.other_issuer).slug == "data-literacy"
