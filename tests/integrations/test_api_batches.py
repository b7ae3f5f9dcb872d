"""Bulk uploads through the REST API v1: JSON rows or a file become a dry run with every
row's errors, a batch without errors starts, and each row's outcome is read back."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from awarding.bulk import services as bulk_services
from badges import credentials
from badges.models import BatchState, BulkBatch
from issuers.models import AuditAction, AuditEvent
from tests.badges.helpers import make_achievement, make_published
from tests.base import Cast
from tests.integrations.test_api_helpers import api, oauth_auth, staff_auth

pytestmark = pytest.mark.django_db


def test_a_client_uploads_rows_as_a_dry_run_then_a_clean_batch_is_issued(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client = api(oauth_auth(cast.owner, cast.institution, "awards:read awards:write"))
    rows = [{"email": "ana@example.com", "name": "Ana", "result": "A"}, {"email": "not-mail"}]

    dry = client.post(
        "/api/v1/batches",
        {"achievement": str(version.achievement_id), "rows": rows, "start": True},
        content_type="application/json",
    )
    assert dry.status_code == 201, dry.content
    batch = dry.json()
    listed = client.get(f"/api/v1/batches/{batch['id']}/rows").json()["results"]
    refused = client.post(f"/api/v1/batches/{batch['id']}/start", content_type="application/json")

    assert (batch["state"], batch["total_rows"], batch["error_rows"]) == ("draft", 2, 1)
    assert [r["number"] for r in listed] == [2, 3]
    assert listed[0]["errors"] == []
    assert [e["column"] for e in listed[1]["errors"]] == ["email"]
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid"

    clean = client.post(
        "/api/v1/batches",
        {"achievement": str(version.achievement_id), "rows": rows[:1], "start": True},
        content_type="application/json",
    ).json()
    assert clean["state"] == "running"
    bulk_services.issue_chunk(batch_id=clean["id"])  # what the worker does
    bulk_services.finish_if_done(batch_id=clean["id"])
    done = client.get(f"/api/v1/batches/{clean['id']}").json()
    (row,) = client.get(f"/api/v1/batches/{clean['id']}/rows").json()["results"]

    assert done["state"] == "done"
    assert done["rows"]["signed"] == 1
    assert row["state"] == "signed"
    assert row["credential"] == credentials.credential_url(row["award"])
    uploaded = AuditEvent.objects.get(action=AuditAction.BULK_UPLOADED, data__batch=clean["id"])
    assert uploaded.actor is None
    assert uploaded.data["client"] == "oauth: Student records"
    assert BulkBatch.objects.get(pk=clean["id"]).created_by is None


def test_a_staff_member_uploads_a_file(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client = api(staff_auth(cast.awarder))
    upload = SimpleUploadedFile(
        "cohort.csv", "Email,Name\nli@example.com,李华\n".encode(), content_type="text/csv"
    )

    response = client.post(
        "/api/v1/batches", {"achievement": str(version.achievement_id), "file": upload}
    )

    assert response.status_code == 201, response.content
    assert (response.json()["file_name"], response.json()["total_rows"]) == ("cohort.csv", 1)
    batch = BulkBatch.objects.get()
    assert batch.created_by == cast.awarder
    assert batch.rows.get().name == "李华"


def test_what_a_batch_needs_and_what_it_refuses(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    draft = make_achievement(cast.editor, cast.issuer, slug="unpublished")
    writer = api(oauth_auth(cast.owner, cast.institution, "awards:write"))

    def post(**fields: object) -> Any:
        return writer.post("/api/v1/batches", fields, content_type="application/json")

    row = [{"email": "a@example.com"}]
    replace = post(achievement=str(version.achievement_id), rows=row, duplicates="replace")
    unpublished = post(achievement=str(draft.pk), rows=row)
    nothing = post(achievement=str(version.achievement_id))
    unknown = post(achievement=str(version.achievement_id), rows=[{"emial": "a@example.com"}])

    assert replace.status_code == 403  # replacing revokes: it needs awards:revoke
    assert unpublished.status_code == 400
    assert nothing.status_code == 400
    assert "rows" in nothing.json()["error"]["details"]
    assert unknown.status_code == 400
    assert not BulkBatch.objects.exists()


def test_batches_are_listed_by_last_change_and_filtered_by_state(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    first = bulk_services.create_batch(
        actor=cast.awarder, version=version, file_name="a.csv", data=b"Email\na@example.com\n"
    )
    second = bulk_services.create_batch(
        actor=cast.awarder, version=version, file_name="b.csv", data=b"Email\nb@example.com\n"
    )
    bulk_services.start_batch(actor=cast.awarder, batch=first)
    client = api(staff_auth(cast.viewer))

    listed = client.get("/api/v1/batches").json()["results"]
    drafts = client.get("/api/v1/batches", {"state": BatchState.DRAFT}).json()["results"]

    assert [b["id"] for b in listed] == [str(second.pk), str(first.pk)]  # started later
    assert [b["id"] for b in drafts] == [str(second.pk)]
    assert client.get("/api/v1/batches", {"state": "nonsense"}).status_code == 400
