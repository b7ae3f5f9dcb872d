"""What the bulk dry run shows before anything is issued (issue 20: D1, D6, D8, D9, D25 and
item 3): a refused evidence URL is inert text, status and errors come first, rows that will
be skipped are said so and not counted, example addresses and the template's old sample row
are flagged, languages and credits read as people write them, and an unmet policy is shown
on the upload page before a file is chosen."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from achievements import services as achievement_services
from awarding.bulk import parse
from badges.models import AchievementVersion, Award, BulkBatch, RowState
from tests.badges.helpers import award, make_published
from tests.base import CaptureCallbacks, Cast
from tests.frameworks.helpers import choose, draft_micro, place, reference

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reference() -> None:
    reference()  # the reference frameworks, credit systems and policies


def _dry_run(
    client: Client, cast: Cast, version: AchievementVersion, text: str, **form: str
) -> str:
    client.force_login(cast.awarder)
    response = client.post(
        reverse("manage:bulk_upload", args=[cast.institution.slug, version.achievement_id]),
        {
            "file": SimpleUploadedFile("cohort.csv", text.encode()),
            "duplicates": "skip",
            "notify": "on",
            **form,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page: str = client.get(response["Location"]).content.decode()
    return page


def _row(page: str, number: int) -> str:
    """The HTML of one row of the dry-run table."""
    found = re.search(rf'<tr[^>]*data-row="{number}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"row {number} is not in the table"
    return found.group(1)


def _cells(row_html: str) -> list[str]:
    return re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row_html, re.S)


def test_a_refused_javascript_evidence_url_is_shown_as_text_never_as_a_link(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    page = _dry_run(
        client,
        cast,
        version,
        "Email,Name,Evidence URL\n"
        "ana@uni.ac.nz,Ana,javascript:alert(1)\n"
        "ben@uni.ac.nz,Ben,https://portfolio.uni.ac.nz/ben\n"
        "cho@uni.ac.nz,Cho,JaVaScRiPt:alert(2)\n",
    )

    refused = _row(page, 2)
    assert "javascript:alert(1)" in refused  # the learner's value is still shown, as text
    assert "Evidence links must start with https:// or http://." in refused
    assert "href" not in refused.split("javascript:alert(1)")[0].rsplit("<td", 1)[-1]
    assert not re.search(r'href="\s*javascript', page, re.I)
    assert '<a href="https://portfolio.uni.ac.nz/ben"' in _row(page, 3)


def test_status_and_errors_come_before_the_other_columns_so_no_scrolling_hides_them(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    page = _dry_run(
        client,
        cast,
        version,
        "Email,Name,Valid until,Result\nana@uni.ac.nz,Ana,someday,A\nben@uni.ac.nz,Ben,,B\n",
    )

    header = re.search(r"<thead>(.*?)</thead>", page, re.S)
    assert header
    columns = [re.sub(r"<[^>]+>", "", c).strip() for c in _cells(header.group(1))]
    assert columns[:2] == ["Row", "Status"]
    assert len(columns) <= 5  # one table that fits a 1280 px console without a side scroll
    assert 'class="table-scroll"' not in page
    error_cell, ready_cell = _cells(_row(page, 2))[1], _cells(_row(page, 3))[1]
    assert "Error" in error_cell and "“someday” is not a date" in error_cell
    assert "Ready" in ready_cell


def test_the_dry_run_says_which_rows_will_be_skipped_and_issues_only_the_others(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="ana@uni.ac.nz", name="Ana Tester")

    page = _dry_run(
        client, cast, version, "Email,Name\nana@uni.ac.nz,Ana Tester\nben@uni.ac.nz,Ben\n"
    )

    assert "Will be skipped" in _cells(_row(page, 2))[1]
    assert "Will be skipped" not in _row(page, 3)
    assert "1 of 2 rows will be issued; 1 will be skipped" in page
    assert "Issue 1 badge" in page and "Issue 2 badges" not in page
    assert "All 2 rows are ready" not in page

    batch = BulkBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("manage:bulk_start", args=[cast.institution.slug, batch.pk]))
    states = dict(batch.rows.values_list("number", "state"))
    assert states[2] == RowState.SKIPPED and states[3] in {RowState.SIGNED, RowState.NOTIFIED}
    assert Award.objects.filter(recipient_email="ben@uni.ac.nz").count() == 1


def test_replacing_says_which_learners_badges_will_be_replaced(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="ana@uni.ac.nz", name="Ana Tester")
    client.force_login(cast.editor)
    response = client.post(
        reverse("manage:bulk_upload", args=[cast.institution.slug, version.achievement_id]),
        {
            "file": SimpleUploadedFile("c.csv", b"Email\nana@uni.ac.nz\nben@uni.ac.nz\n"),
            "duplicates": "replace",
        },
    )
    page = client.get(response["Location"]).content.decode()

    assert "Replaces the badge the learner already has." in _row(page, 2)
    assert "1 learner already has this badge: it will be revoked and replaced." in page
    assert "Issue 2 badges" in page


def test_the_template_has_no_sample_row_that_could_be_issued() -> None:
    for language in ("en", "zh"):
        rows = list(csv.reader(io.StringIO(parse.template_csv(language).decode("utf-8-sig"))))
        assert len(rows) == 1  # the headers only
        assert not any("@" in cell for cell in rows[0])


def test_an_old_templates_sample_row_is_an_error_and_example_addresses_are_flagged(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    page = _dry_run(
        client,
        cast,
        version,
        "Email,Name,Evidence URL,Evidence narrative\n"
        "lee@example.com,Lee Learner,https://example.com/portfolio/lee,Report\n"
        "ana@uni.ac.nz,Ana,,\n",
    )
    status = html.unescape(_cells(_row(page, 2))[1])
    assert "This is the template's example row; delete it." in status
    assert "Issue 2 badges" not in page and "Issue 1 badge" not in page

    page = _dry_run(
        client,
        cast,
        version,
        "Email,Name\nana@uni.ac.nz,Ana\nbo@example.org,Bo\ncy@students.uni.test,Cy\n",
    )
    assert "Example address" not in _row(page, 2)
    assert "Example address" in _cells(_row(page, 3))[1]
    assert "Example address" in _cells(_row(page, 4))[1]
    assert "2 rows are at example addresses" in page


@pytest.mark.parametrize(
    ("email", "example"),
    [
        ("lee@example.com", True),
        ("a@EXAMPLE.NET", True),
        ("a@mail.example.org", True),
        ("a@uni.test", True),
        ("a@x.invalid", True),
        ("a@uni.ac.nz", False),
        ("a@example.com.au", False),
        ("a@testing.edu", False),
    ],
)
def test_example_addresses_are_the_reserved_domains_only(email: str, example: bool) -> None:
    assert parse.is_example_address(email) is example


def test_languages_and_credits_read_as_people_write_them(client: Client, cast: Cast) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, credits=(("nzqcf-credit", "15"),), notional_hours=150)
    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    page = _dry_run(
        client,
        cast,
        version,
        "Email,Name,Language,Credits earned\nana@uni.ac.nz,Ana,en,8\nben@uni.ac.nz,Ben,en,7.5\n",
    )

    ana = _row(page, 2)
    assert "(English)" in ana and "(en)" not in ana
    assert re.search(r"<dd>\s*8\s*</dd>", ana) and "8.00" not in ana
    assert re.search(r"<dd>\s*7\.5\s*</dd>", _row(page, 3))


def test_the_upload_page_shows_an_unmet_policy_before_a_file_is_chosen(
    client: Client, cast: Cast
) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    choose(cast.owner, cast.institution, "nzqcf-micro")  # chosen after it was published
    client.force_login(cast.awarder)
    url = reverse("manage:bulk_upload", args=[cast.institution.slug, version.achievement_id])

    page = client.get(url).content.decode()

    assert "does not meet your institution's policies" in page
    assert "NZQCF micro-credential: Place it at a level of the NZQCF." in page
    assert re.search(r"<button type=\"submit\" disabled>", page)
    refused = client.post(url, {"file": SimpleUploadedFile("c.csv", b"Email\na@uni.ac.nz\n")})
    assert refused.status_code == 400 and not BulkBatch.objects.exists()


def test_the_upload_page_of_a_micro_credential_that_meets_the_policies_has_no_notice(
    client: Client, cast: Cast
) -> None:
    choose(cast.owner, cast.institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft)
    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    client.force_login(cast.awarder)

    page = client.get(
        reverse("manage:bulk_upload", args=[cast.institution.slug, version.achievement_id])
    ).content.decode()

    assert "does not meet your institution's policies" not in page
    assert "disabled" not in page
