"""Micro-credentials through the REST API v1: an editor creates one, edits its draft and
publishes it; a published version never changes (editing starts the next one); readers see
drafts and versions; a client acting for itself may read but not write."""

from __future__ import annotations

from typing import Any

import pytest

from badges import credentials
from badges.models import AchievementVersion, VersionStatus
from issuers.models import AuditAction, AuditEvent
from tests.badges.helpers import CONTENT, make_published
from tests.base import Cast
from tests.integrations.test_api_helpers import api, oauth_auth, staff_auth

pytestmark = pytest.mark.django_db


def _json(client: Any, method: str, url: str, data: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(url, data or {}, content_type="application/json")


def test_an_editor_creates_edits_and_publishes_a_micro_credential(cast: Cast) -> None:
    editor = api(staff_auth(cast.editor))
    fields = {k: v for k, v in CONTENT.items() if k != "result_descriptions"}

    created = _json(
        editor,
        "post",
        "/api/v1/achievements",
        {"issuer": cast.issuer.slug, "slug": "python-basics", **fields, "name_en": "Python"},
    )
    assert created.status_code == 201, created.content
    achievement = created.json()
    assert (achievement["slug"], achievement["draft_version"]) == ("python-basics", 1)
    assert achievement["published_version"] is None
    url = f"/api/v1/achievements/{achievement['id']}"

    edited = _json(editor, "patch", f"{url}/draft", {"name_en": "Python Basics"})
    published = _json(editor, "post", f"{url}/publish", {"change_note": "First edition"})
    again = _json(editor, "post", f"{url}/publish")
    next_draft = _json(editor, "patch", f"{url}/draft", {"validity_days": 365})
    versions = editor.get(f"{url}/versions").json()["results"]

    assert edited.status_code == 200, edited.content
    assert edited.json()["name_en"] == "Python Basics"
    assert edited.json()["status"] == "draft"
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "published"
    assert published.json()["url"] == credentials.version_url(
        AchievementVersion.objects.get(achievement_id=achievement["id"], number=1)
    )
    assert published.json()["change_note"] == "First edition"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert next_draft.json()["number"] == 2
    assert next_draft.json()["validity_days"] == 365
    assert next_draft.json()["name_en"] == "Python Basics"  # started from version 1
    assert [(v["number"], v["status"]) for v in versions] == [(1, "published"), (2, "draft")]
    first = AchievementVersion.objects.get(achievement_id=achievement["id"], number=1)
    assert (first.status, first.validity_days) == (VersionStatus.PUBLISHED, 730)
    read = editor.get(url).json()
    assert (read["published_version"], read["draft_version"]) == (1, 2)


def test_an_incomplete_draft_is_not_published_and_says_why(cast: Cast) -> None:
    editor = api(staff_auth(cast.editor))
    created = _json(
        editor,
        "post",
        "/api/v1/achievements",
        {"issuer": cast.issuer.slug, "slug": "half-done", "name_en": "Half done"},
    ).json()

    refused = _json(editor, "post", f"/api/v1/achievements/{created['id']}/publish")

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid"
    assert "description" in refused.json()["error"]["message"]
    assert not AchievementVersion.objects.filter(status=VersionStatus.PUBLISHED).exists()


def test_fields_are_checked_and_unknown_ones_refused(cast: Cast) -> None:
    editor = api(staff_auth(cast.editor))
    url = "/api/v1/achievements"
    base = {"issuer": cast.issuer.slug, "slug": "checked"}

    unknown = _json(editor, "post", url, {**base, "nme_en": "Typo"})
    bad_type = _json(editor, "post", url, {**base, "achievement_type": "Nonsense"})
    bad_result = _json(
        editor, "post", url, {**base, "result_descriptions": [{"result_type": "LetterGrade"}]}
    )
    taken = make_published(cast.editor, cast.issuer, slug="taken")
    duplicate = _json(editor, "post", url, {**base, "slug": "taken"})

    assert unknown.status_code == 400
    assert unknown.json()["error"]["details"] == {"nme_en": ["Unknown field."]}
    assert "achievement_type" in bad_type.json()["error"]["details"]
    assert bad_result.status_code == 400
    assert duplicate.status_code == 400
    assert "slug" in duplicate.json()["error"]["details"]
    assert taken.achievement.slug == "taken"


def test_readers_see_drafts_and_versions_and_only_writers_edit(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    reader = api(oauth_auth(cast.owner, cast.institution, "achievements:read"))
    writer = api(oauth_auth(cast.owner, cast.institution, "achievements:write"))
    viewer = api(staff_auth(cast.viewer))
    url = f"/api/v1/achievements/{version.achievement_id}"

    listed = reader.get("/api/v1/achievements").json()["results"]
    detail = reader.get(f"{url}/versions/1").json()
    client_edit = _json(writer, "patch", f"{url}/draft", {"name_en": "Renamed"})
    viewer_edit = _json(viewer, "patch", f"{url}/draft", {"name_en": "Renamed"})
    no_scope = _json(reader, "patch", f"{url}/draft", {"name_en": "Renamed"})

    assert [a["id"] for a in listed] == [str(version.achievement_id)]
    assert detail["criteria_en"] == CONTENT["criteria_en"]
    assert detail["result_descriptions"][0]["allowed_values"] == ["A", "B", "C"]
    assert detail["languages"] == ["en", "zh-Hans"]
    assert viewer_edit.status_code == no_scope.status_code == 403
    # A system with achievements:write edits too; the audit log names the client.
    assert client_edit.status_code == 200, client_edit.content
    draft = AchievementVersion.objects.get(name_en="Renamed")
    assert draft.number == 2 and draft.created_by is None
    logged = AuditEvent.objects.filter(action=AuditAction.ACHIEVEMENT_DRAFT_SAVED).get()
    assert logged.actor is None and logged.data["client"] == "oauth: Student records"
    assert reader.get(f"{url}/versions/99").status_code == 404
    assert reader.get(f"{url}/versions/99999999999").status_code == 404


def test_the_list_pages_by_last_change_of_any_version(cast: Cast) -> None:
    first = make_published(cast.editor, cast.issuer, slug="first")
    second = make_published(cast.editor, cast.issuer, slug="second")
    client = api(staff_auth(cast.viewer))
    page = client.get("/api/v1/achievements?limit=1").json()
    assert [a["slug"] for a in page["results"]] == ["first"]
    editor = api(staff_auth(cast.editor))
    _json(editor, "patch", f"/api/v1/achievements/{first.achievement_id}/draft", {"tags": ["x"]})

    rest = client.get(page["next"]).json()
    since = client.get(
        "/api/v1/achievements", {"updated_since": rest["results"][-1]["updated_at"]}
    ).json()

    assert [a["slug"] for a in rest["results"]] == ["second"]
    assert rest["next"] is not None  # the edited one moved after it
    assert [a["slug"] for a in client.get(rest["next"]).json()["results"]] == ["first"]
    assert [a["slug"] for a in since["results"]][-1] == "first"
    assert second.achievement.slug == "second"
