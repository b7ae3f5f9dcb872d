"""The console's bulk-award pages (issue #8): template, upload, dry run, issue, progress."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from badges.models import Award, BatchState, BulkBatch
from tests.badges.helpers import make_published
from tests.base import CaptureCallbacks, Cast

pytestmark = pytest.mark.django_db


def test_an_awarder_uploads_sees_the_dry_run_issues_and_watches_progress(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    slug = cast.institution.slug
    client.force_login(cast.awarder)
    upload_url = reverse("manage:bulk_upload", args=[slug, version.achievement_id])
    template = client.get(
        reverse("manage:bulk_template", args=[slug, version.achievement_id]) + "?lang=zh"
    )
    assert template["Content-Disposition"].startswith("attachment")
    assert "电子邮箱".encode() in template.content

    bad = SimpleUploadedFile("c.csv", "电子邮箱,姓名\nnope,坏\n".encode("gbk"))
    response = client.post(upload_url, {"file": bad, "duplicates": "skip", "notify": "on"})
    batch = BulkBatch.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "1 of 1 rows has an error" in page and "is not an e-mail address" in page
    assert "Issue 1 badge" not in page

    good = SimpleUploadedFile("c.csv", "电子邮箱,姓名\nli@example.com,李华\n".encode("gbk"))
    response = client.post(upload_url, {"file": good, "duplicates": "skip", "notify": "on"})
    batch = BulkBatch.objects.exclude(pk=batch.pk).get()
    page = client.get(response["Location"]).content.decode()
    assert "李华" in page and "Data Literacy" in page and "Issue 1 badge" in page
    assert Award.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("manage:bulk_start", args=[slug, batch.pk]))

    batch.refresh_from_db()
    assert batch.state == BatchState.DONE
    progress = client.get(reverse("manage:bulk_progress", args=[slug, batch.pk])).content.decode()
    assert "100 %" in progress and "Issued and e-mailed" in progress
    assert "hx-trigger" not in progress  # the page stops polling when done


def test_a_viewer_sees_a_batch_but_cannot_issue_it(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.awarder)
    client.post(
        reverse("manage:bulk_upload", args=[cast.institution.slug, version.achievement_id]),
        {"file": SimpleUploadedFile("c.csv", b"Email\na@example.com\n"), "duplicates": "skip"},
    )
    batch = BulkBatch.objects.get()
    client.force_login(cast.viewer)

    page = client.get(reverse("manage:bulk_batch", args=[cast.institution.slug, batch.pk]))
    response = client.post(reverse("manage:bulk_start", args=[cast.institution.slug, batch.pk]))

    assert "Issue 1 badge" not in page.content.decode()
    assert response.status_code in {302, 403}
    batch.refresh_from_db()
    assert batch.state == BatchState.DRAFT and Award.objects.count() == 0
