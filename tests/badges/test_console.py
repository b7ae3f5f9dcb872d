"""The console as staff use it: create, edit, preview, publish, award, rotate keys."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from badges.models import Achievement, Award, VersionStatus
from issuers.models import KeyStatus, SigningKey
from tests.badges.helpers import make_published
from tests.base import Cast

pytestmark = pytest.mark.django_db

FORM = {
    "issuer": "poly-engineering",
    "slug": "welding-1",
    "name_en": "Safe Welding",
    "name_zh": "安全焊接",
    "description_en": "Welds safely.",
    "description_zh": "安全地焊接。",
    "criteria_en": "Pass the **practical**.",
    "criteria_zh": "通过**实操**考核。",
    "achievement_type": "MicroCredential",
    "tags": "welding, safety，焊接",
    "validity_days": "365",
    "result_descriptions": "Grade | 等级 | LetterGrade | A, B, C",
}


def test_an_editor_creates_previews_and_publishes_a_micro_credential(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.editor)
    response = client.post("/manage/poly/achievements/new/", FORM, follow=True)
    assert "Draft saved. Preview it, then publish it." in response.content.decode()
    achievement = Achievement.objects.get(slug="welding-1")
    version = achievement.versions.get()
    assert version.tags == ["welding", "safety", "焊接"]
    assert version.result_descriptions == [
        {
            "name_en": "Grade",
            "name_zh": "等级",
            "result_type": "LetterGrade",
            "allowed_values": ["A", "B", "C"],
        }
    ]

    preview = client.get(f"/manage/poly/achievements/{achievement.pk}/preview/").content.decode()
    assert "This is a draft: only staff can see it." in preview
    assert "<strong>practical</strong>" in preview
    assert "安全焊接" in preview
    assert "&quot;achievementType&quot;: &quot;MicroCredential&quot;" in preview

    response = client.post(
        f"/manage/poly/achievements/{achievement.pk}/publish/",
        {"change_note": "First run"},
        follow=True,
    )
    assert "Version 1 is published and can be awarded." in response.content.decode()
    version.refresh_from_db()
    assert (version.status, version.change_note) == (VersionStatus.PUBLISHED, "First run")


def test_editing_a_published_micro_credential_in_the_console_starts_version_two(
    client: Client, cast: Cast
) -> None:
    published = make_published(cast.editor, cast.issuer)
    client.force_login(cast.editor)
    url = f"/manage/poly/achievements/{published.achievement_id}/edit/"
    page = client.get(url).content.decode()
    assert "Saving starts a draft of version 2" in page
    form = {k: v for k, v in FORM.items() if k not in {"issuer", "slug"}}
    response = client.post(url, {**form, "name_en": "Data Literacy 2"}, follow=True)
    assert "Draft of version 2 saved." in response.content.decode()
    published.refresh_from_db()
    assert published.name_en == "Data Literacy"
    assert published.achievement.versions.get(number=2).name_en == "Data Literacy 2"


def test_an_awarder_awards_a_badge_with_evidence_from_the_console(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.awarder)
    url = f"/manage/poly/achievements/{version.achievement_id}/award/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "email": " Lee@Example.com ",
            "name": "Lee Learner",
            "language": "zh-Hans",
            "narrative": "Great work",
            "evidence_url_1": "https://portfolio.example/lee",
            "evidence_narrative_1": "Portfolio",
            "evidence_narrative_2": "Observed",
            "valid_until": "2099-12-31",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "Badge awarded." in body
    award = Award.objects.get()
    assert f"/credentials/{award.pk}" in body
    assert "lee@example.com" in body  # staff see the address; the public never does
    assert award.credential["name"] == "数据素养"
    assert award.credential["validUntil"] == "2099-12-31T23:59:59Z"
    assert len(award.credential["evidence"]) == 2
    assert award.awarded_by == cast.awarder


@override_settings(INSIGNIA_KEY_ENCRYPTION_KEY=None)
def test_without_a_key_encryption_key_the_award_form_says_why(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.awarder)
    response = client.post(
        f"/manage/poly/achievements/{version.achievement_id}/award/",
        {"email": "lee@example.com", "language": "en"},
    )
    assert response.status_code == 503
    assert "Signing is switched off" in response.content.decode()
    assert not Award.objects.exists()


def test_viewers_cannot_open_the_award_or_edit_forms(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.viewer)
    base = f"/manage/poly/achievements/{version.achievement_id}"
    assert client.get(f"{base}/award/").status_code == 403
    assert client.get(f"{base}/edit/").status_code == 403
    assert client.post(f"{base}/publish/").status_code == 403
    assert client.get("/manage/poly/achievements/new/").status_code == 403
    assert client.get(f"{base}/").status_code == 200


def test_awarders_see_no_edit_link_and_editors_see_no_key_page(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.awarder)
    body = client.get(f"/manage/poly/achievements/{version.achievement_id}/").content.decode()
    assert "Award this badge" in body
    assert "/edit/" not in body
    client.force_login(cast.editor)
    assert client.get("/manage/poly/issuers/poly-engineering/keys/").status_code == 403


def test_an_owner_rotates_and_withdraws_keys_from_the_console(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    keys_url = "/manage/poly/issuers/poly-engineering/keys/"
    assert "No key yet" in client.get(keys_url).content.decode()
    response = client.post(keys_url + "rotate/", follow=True)
    assert "New key key-1 is active" in response.content.decode()
    client.post(keys_url + "rotate/")
    response = client.post(keys_url + "key-1/withdraw/", follow=True)
    assert "Key key-1 withdrawn: credentials it signed no longer verify." in (
        response.content.decode()
    )
    statuses = dict(SigningKey.objects.values_list("key_id", "status"))
    assert statuses == {"key-1": KeyStatus.WITHDRAWN, "key-2": KeyStatus.ACTIVE}
    assert client.post(keys_url + "key-9/withdraw/").status_code == 404


def test_the_awards_list_shows_what_was_awarded(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.awarder)
    client.post(
        f"/manage/poly/achievements/{version.achievement_id}/award/",
        {"email": "lee@example.com", "name": "Lee Learner", "language": "en"},
    )
    client.force_login(cast.viewer)
    body = client.get("/manage/poly/awards/").content.decode()
    assert "Lee Learner" in body
    assert "Data Literacy" in body
