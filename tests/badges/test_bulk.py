"""Bulk issuing from a file (issue #8): reading real spreadsheets, the dry run, issuing in
chunks that never award a row twice, cancel, retry, and the result file."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import openpyxl
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from awarding.bulk import parse
from awarding.bulk import services as bulk_services
from awarding.revocation import services as revocation_services
from badges.models import (
    AchievementVersion,
    Award,
    AwardStatus,
    BatchState,
    BulkBatch,
    BulkRow,
    DuplicateHandling,
    RowState,
    StatusEntry,
)
from tests.badges.helpers import award, make_published, verify_served
from tests.base import CaptureCallbacks, Cast

pytestmark = pytest.mark.django_db

GOOD = "Email,Name,Evidence URL,Evidence narrative,Valid until,Result,Language\n"


def _csv(*lines: str, header: str = GOOD) -> bytes:
    return (header + "\n".join(lines) + "\n").encode("utf-8")


def _upload(
    cast: Cast, version: AchievementVersion, data: bytes, duplicates: str = "skip"
) -> BulkBatch:
    return bulk_services.create_batch(
        actor=cast.awarder,
        version=version,
        file_name="cohort.csv",
        data=data,
        duplicates=duplicates,
    )


def _issue(cast: Cast, batch: BulkBatch, capture: CaptureCallbacks) -> BulkBatch:
    with capture(execute=True):
        bulk_services.start_batch(actor=cast.awarder, batch=batch)
    batch.refresh_from_db()
    return batch


def test_the_template_opens_in_a_spreadsheet_with_chinese_headers(cast: Cast) -> None:
    data = parse.template_csv("zh-hans")

    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    (header,) = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))  # no sample row
    assert header[:2] == ["电子邮箱", "姓名"]
    english = parse.template_csv("en").decode("utf-8-sig")
    assert english.startswith("Email,Name,")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_chinese_names_survive_every_spreadsheet_encoding(cast: Cast, encoding: str) -> None:
    version = make_published(cast.editor, cast.issuer)
    text = "电子邮箱,姓名,语言\nli.hua@example.com,李华,中文\nwang@example.com,王小明,zh\n"

    batch = _upload(cast, version, text.encode(encoding))

    rows = list(batch.rows.order_by("number"))
    assert [(r.number, r.email, r.name, r.language) for r in rows] == [
        (2, "li.hua@example.com", "李华", "zh-Hans"),
        (3, "wang@example.com", "王小明", "zh-Hans"),
    ]
    assert batch.error_rows == 0


@pytest.mark.parametrize(
    ("text", "encoding"),
    [("学员", "gbk"), ("学员12", "gb18030"), ("José Müller", "utf-8"), ("Иван Петров", "utf-8")],
)
def test_gbk_that_happens_to_be_valid_utf8_is_still_read_as_gbk(
    cast: Cast, text: str, encoding: str
) -> None:
    data = f"Email,Name\nx@example.com,{text}\n".encode(encoding)

    assert parse.decode_csv(data).splitlines()[1] == f"x@example.com,{text}"


def test_an_excel_workbook_is_read_with_its_dates(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Email", "Name", "Valid until", "Result"])
    sheet.append(["ada@example.com", "Ada", datetime(2031, 6, 30), "A"])  # noqa: DTZ001
    buffer = io.BytesIO()
    workbook.save(buffer)

    batch = bulk_services.create_batch(
        actor=cast.awarder, version=version, file_name="cohort.xlsx", data=buffer.getvalue()
    )

    (row,) = batch.rows.all()
    assert (row.email, row.name, row.result) == ("ada@example.com", "Ada", "A")
    assert row.valid_until is not None and row.valid_until.date().isoformat() == "2031-06-30"


def test_the_dry_run_lists_every_error_by_row_and_column_and_issues_nothing(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    data = _csv(
        "ok@example.com,Ok Person,https://example.com/p,Portfolio,2031-01-31,B,en",
        "not-an-email,Bad Mail,,,,,",
        "link@example.com,Bad Link,ftp://example.com/x,,,,",
        "date@example.com,Bad Date,,,31 February,,",
        "grade@example.com,Bad Grade,,,,Z,",
        "lang@example.com,Bad Language,,,,,fr",
        "ok@example.com,Repeat,,,,,",
    )

    batch = _upload(cast, version, data)

    errors = {r.number: [e["column"] for e in r.errors] for r in batch.rows.all()}
    assert errors == {
        2: [],
        3: ["email"],
        4: ["evidence_url"],
        5: ["valid_until"],
        6: ["result"],
        7: ["language"],
        8: ["email"],
    }
    assert batch.error_rows == 6 and batch.state == BatchState.DRAFT
    assert "row 2" in BulkRow.objects.get(batch=batch, number=8).errors[0]["message"]
    assert Award.objects.count() == 0
    with pytest.raises(ValidationError, match="Fix the rows"):
        bulk_services.start_batch(actor=cast.awarder, batch=batch)


def test_a_file_without_an_email_column_is_refused_whole(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)

    with pytest.raises(ValidationError, match="Email"):
        _upload(cast, version, b"Name,Grade\nAda,A\n")
    with pytest.raises(ValidationError, match="no rows"):
        _upload(cast, version, b"Email,Name\n")
    assert BulkBatch.objects.count() == 0


@override_settings(BULK_MAX_ROWS=3)
def test_a_file_over_the_row_limit_is_refused(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    lines = [f"p{n}@example.com,P{n}" for n in range(4)]

    with pytest.raises(ValidationError, match="more than 3 rows"):
        _upload(cast, version, _csv(*lines, header="Email,Name\n"))


def test_a_viewer_cannot_upload(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)

    with pytest.raises(PermissionDenied):
        bulk_services.create_batch(
            actor=cast.viewer, version=version, file_name="x.csv", data=_csv("a@example.com,A")
        )


@override_settings(BULK_CHUNK=2)
def test_issuing_signs_every_row_once_with_its_own_evidence_result_and_expiry(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    data = _csv(
        "ada@example.com,Ada,https://example.com/ada,Her report,2031-01-31,A,en",
        "li.hua@example.com,李华,,期末项目,,B,zh",
        "grace@example.com,Grace,,,,,",
    )
    batch = _upload(cast, version, data)

    batch = _issue(cast, batch, django_capture_on_commit_callbacks)

    assert batch.state == BatchState.DONE
    rows = {r.email: r for r in batch.rows.select_related("award")}
    assert {r.state for r in rows.values()} == {RowState.NOTIFIED}
    assert Award.objects.count() == 3
    ada = rows["ada@example.com"].award
    assert ada is not None
    credential = json.loads(ada.credential_json)
    assert credential["evidence"][0]["id"] == "https://example.com/ada"
    assert credential["credentialSubject"]["result"][0]["value"] == "A"
    assert credential["validUntil"].startswith("2031-01-31")
    assert verify_served(client, credential)
    li = rows["li.hua@example.com"].award
    assert li is not None and li.language == "zh-Hans" and li.credential["name"] == "数据素养"
    assert StatusEntry.objects.filter(award__in=[r.award for r in rows.values()]).count() == 6
    assert sorted(m.to[0] for m in mail.outbox) == sorted(rows)


def test_running_the_chunk_task_again_awards_nothing_twice(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    batch = _issue(
        cast,
        _upload(cast, version, _csv("a@example.com,A", "b@example.com,B", header="Email,Name\n")),
        django_capture_on_commit_callbacks,
    )

    assert bulk_services.issue_chunk(batch_id=batch.pk) == 0
    from awarding.bulk import tasks

    assert tasks.issue_batch(str(batch.pk)) == 0
    assert Award.objects.count() == 2


def test_the_same_upload_issued_twice_awards_and_e_mails_nobody_twice(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    data = _csv("a@example.com,A", "b@example.com,B", header="Email,Name\n")
    first = _issue(cast, _upload(cast, version, data), django_capture_on_commit_callbacks)
    sent = len(mail.outbox)

    # The awarder presses "Issue" again on the same upload (a second tab, a double click)…
    client.force_login(cast.awarder)
    again = client.post(
        reverse("manage:bulk_start", args=[cast.institution.slug, first.pk]), follow=True
    )
    assert "already been issued" in again.content.decode()
    # …and uploads the same file once more and issues it.
    second = _issue(cast, _upload(cast, version, data), django_capture_on_commit_callbacks)

    assert {r.state for r in second.rows.all()} == {RowState.SKIPPED}
    assert Award.objects.count() == 2
    assert len(mail.outbox) == sent == 2


def test_learners_who_already_hold_the_badge_are_skipped_replaced_or_given_another(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    earlier = award(cast.awarder, version, email="ada@example.com", notify=False)
    data = _csv("ada@example.com,Ada", header="Email,Name\n")

    skipped = _issue(cast, _upload(cast, version, data), django_capture_on_commit_callbacks)
    assert skipped.rows.get().state == RowState.SKIPPED
    assert Award.objects.count() == 1

    allowed = _issue(
        cast,
        _upload(cast, version, data, duplicates=DuplicateHandling.ALLOW),
        django_capture_on_commit_callbacks,
    )
    assert allowed.rows.get().state == RowState.NOTIFIED
    assert Award.objects.count() == 2

    with pytest.raises(PermissionDenied):  # replacing revokes: editors and owners only
        _upload(cast, version, data, duplicates=DuplicateHandling.REPLACE)
    replace = bulk_services.create_batch(
        actor=cast.editor,
        version=version,
        file_name="x.csv",
        data=data,
        duplicates=DuplicateHandling.REPLACE,
    )
    with django_capture_on_commit_callbacks(execute=True):
        bulk_services.start_batch(actor=cast.editor, batch=replace)
    earlier.refresh_from_db()
    assert earlier.status == AwardStatus.REVOKED
    assert Award.objects.filter(recipient_email="ada@example.com", status="active").count() == 1


def test_cancel_stops_rows_not_yet_issued_and_keeps_issued_ones(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    lines = [f"p{n}@example.com,P{n}" for n in range(5)]
    batch = _upload(cast, version, _csv(*lines, header="Email,Name\n"))
    with override_settings(BULK_CHUNK=2):
        bulk_services.start_batch(actor=cast.awarder, batch=batch)  # tasks not run yet
        bulk_services.issue_chunk(batch_id=batch.pk)

    bulk_services.cancel_batch(actor=cast.awarder, batch=batch)

    states = sorted(batch.rows.values_list("state", flat=True))
    assert states == ["cancelled"] * 3 + ["signed"] * 2
    assert bulk_services.issue_chunk(batch_id=batch.pk) == 0
    assert Award.objects.count() == 2


def test_failed_rows_can_be_retried_and_the_result_file_says_what_happened(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    batch = _upload(
        cast, version, _csv("a@example.com,A", "b@example.com,B", header="Email,Name\n")
    )
    # Row 3's learner gets the badge revoked by hand while row 2 expires too soon: make row 3
    # fail by giving it an expiry that has passed by the time it is issued.
    BulkRow.objects.filter(batch=batch, number=3).update(
        valid_until=timezone.now() - timedelta(days=1)
    )
    batch = _issue(cast, batch, django_capture_on_commit_callbacks)
    failed = batch.rows.get(number=3)
    assert failed.state == RowState.FAILED and "future" in failed.message

    BulkRow.objects.filter(pk=failed.pk).update(valid_until=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_services.retry_failed(actor=cast.awarder, batch=batch) == 1
    assert batch.rows.get(number=3).state == RowState.NOTIFIED

    client.force_login(cast.awarder)
    response = client.get(reverse("manage:bulk_results", args=[cast.institution.slug, batch.pk]))
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][:4] == ["Row", "E-mail", "Name", "Status"]
    assert [line[3] for line in lines[1:]] == ["Issued and e-mailed"] * 2
    assert all(line[5].startswith("http") for line in lines[1:])


def test_a_revoked_badge_is_not_e_mailed(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version, email="late@example.com")
    revocation_services.revoke_award(actor=cast.editor, award=issued, reason="Wrong person")
    from badges.notifications import services as notifications

    note = issued.notifications.get()
    assert notifications.send_award_email(notification_id=note.pk) is False
    assert mail.outbox == []
