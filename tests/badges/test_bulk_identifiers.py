"""Bulk issuing to student numbers and sign-in names (issue 15 §4): optional identifier
columns beside the e-mail, a clear error for a row that names nobody, and learners already
holding the badge found by identifier too (within the institution)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from awarding.bulk import parse, selectors
from awarding.bulk import services as bulk_services
from badges.models import AchievementVersion, Award, BatchState, BulkBatch, RowState
from tests.badges.helpers import award, make_published
from tests.base import CaptureCallbacks, Cast

pytestmark = pytest.mark.django_db


def _upload(cast: Cast, version: AchievementVersion, text: str) -> BulkBatch:
    return bulk_services.create_batch(
        actor=cast.awarder, version=version, file_name="cohort.csv", data=text.encode("utf-8")
    )


def _issue(batch: BulkBatch, cast: Cast, capture: CaptureCallbacks) -> BulkBatch:
    with capture(execute=True):
        bulk_services.start_batch(actor=cast.awarder, batch=batch)
    batch.refresh_from_db()
    return batch


def test_the_template_offers_the_identifier_columns_in_both_languages() -> None:
    english = next(csv.reader(io.StringIO(parse.template_csv("en").decode("utf-8-sig"))))
    chinese = next(csv.reader(io.StringIO(parse.template_csv("zh").decode("utf-8-sig"))))
    assert english[-2:] == ["Student number", "Sign-in name"]
    assert chinese[-2:] == ["学号", "登录名"]


def test_rows_by_e_mail_student_number_or_sign_in_name_are_issued_and_e_mailed_if_they_can(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    text = (
        "Email,Name,Student number,Sign-in name\n"
        "ada@example.com,Ada,,\n"
        ",Ben,2026 0001,\n"
        ",Cai,,Cai@Poly.ac.nz\n"
        "dee@example.com,Dee,20260004,\n"
    )
    batch = _issue(_upload(cast, version, text), cast, django_capture_on_commit_callbacks)

    assert batch.state == BatchState.DONE
    found = {
        (a.recipient_email, a.recipient_identifier_type, a.recipient_identifier)
        for a in Award.objects.all()
    }
    assert found == {
        ("ada@example.com", "", ""),
        ("", "studentId", "20260001"),
        ("", "sourcedId", "cai@poly.ac.nz"),
        ("dee@example.com", "studentId", "20260004"),
    }
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "dee@example.com"]
    states = dict(batch.rows.values_list("name", "state"))
    assert states == {
        "Ada": RowState.NOTIFIED,
        "Ben": RowState.SIGNED,  # issued; there is no address to e-mail
        "Cai": RowState.SIGNED,
        "Dee": RowState.NOTIFIED,
    }


def test_a_row_naming_nobody_gets_its_own_error_and_the_others_are_kept(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    text = (
        "学号,姓名,电子邮箱\n"
        "20261234,李华,\n"
        ",王小明,\n"
        "20261235,张伟,zhang@example.com\n"
        "20261234,李华二,\n"
        "20269999,赵六,\n"
    )
    batch = _upload(cast, version, text)
    rows = {row.number: row for row in batch.rows.all()}

    assert (batch.total_rows, batch.error_rows) == (5, 2)
    assert rows[2].errors == [] and rows[2].identifier == "20261234"
    assert rows[3].errors == [
        {
            "column": "email",
            "message": "Give the learner's e-mail address, student number or sign-in name.",
        }
    ]
    assert rows[4].errors == [] and rows[4].email == "zhang@example.com"
    assert rows[5].errors == [
        {"column": "student_id", "message": "This identifier is already in row 2."}
    ]
    assert rows[6].errors == []
    report = selectors.result_csv(batch).decode("utf-8-sig")
    assert "Give the learner's e-mail address, student number or sign-in name." in report
    assert "20269999" in report


def test_both_identifiers_on_one_row_are_refused(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    batch = _upload(cast, version, "Student number,Sign-in name\n1,a@poly.ac.nz\n")
    (row,) = batch.rows.all()
    assert row.errors == [
        {"column": "sourced_id", "message": "Give a student number or a sign-in name, not both."}
    ]


def test_a_file_without_any_learner_column_is_refused_whole(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    with pytest.raises(ValidationError, match="Student number"):
        _upload(cast, version, "Name,Grade\nAda,A\n")
    assert not BulkBatch.objects.exists()


def test_a_student_who_already_holds_the_badge_is_skipped_only_in_the_same_institution(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="", identifier_type="studentId", identifier="20261234")
    rival = make_published(cast.outsider, cast.other_issuer)
    award(cast.outsider, rival, email="", identifier_type="studentId", identifier="20261235")
    text = "Student number,Name\n20261234,Lee\n20261235,Sam\n"

    batch = _issue(_upload(cast, version, text), cast, django_capture_on_commit_callbacks)

    states = dict(batch.rows.values_list("identifier", "state"))
    # Another institution's 20261235 is someone else: that row is issued.
    assert states == {"20261234": RowState.SKIPPED, "20261235": RowState.SIGNED}
    assert Award.objects.filter(issuer=cast.issuer).count() == 2


def test_the_dry_run_page_shows_the_student_number_and_its_error(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    batch = _upload(cast, version, "Email,Student number\n,20261234\n,2026\x011234\n")
    client.force_login(cast.awarder)
    body = client.get(f"/manage/poly/bulk/{batch.pk}/").content.decode()
    assert "Student number: 20261234" in body
    assert "The identifier contains control characters; type it again." in body
