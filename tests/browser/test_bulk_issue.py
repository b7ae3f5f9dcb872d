"""Done-when of issue #8, in a real browser: an awarder uploads a CSV with bad rows, sees them
in the dry run, fixes them, issues, watches the progress reach 100 %, and a learner claims
the badge from the link in the e-mail (read from the test mail outbox)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from badges.models import Award
from tests.badges.helpers import make_published
from tests.base import PASSWORD, make_cast
from tests.browser.conftest import new_context, screenshot
from tests.browser.test_staff_console import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

BAD = (
    "Email,Name,Evidence URL,Valid until,Result,Language\n"
    "ada@example.com,Ada Lovelace,https://example.com/ada,2031-06-30,A,en\n"
    "li.hua-at-example.com,李华,,,B,zh\n"
    "grace@example.com,Grace Hopper,,someday,C,en\n"
)
FIXED = BAD.replace("li.hua-at-example.com", "li.hua@example.com").replace("someday", "")


def test_an_awarder_issues_a_cohort_from_a_csv_and_a_learner_claims_it(
    live_server: LiveServer, browser: Browser
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url, BULK_BACKGROUND_THREAD=True):
        cast = make_cast()
        version = make_published(cast.editor, cast.issuer)
        context = new_context(browser)
        page = context.new_page()
        sign_in(page, live_server, (cast.awarder.email, PASSWORD))
        page.goto(
            f"{live_server.url}/manage/{cast.institution.slug}/achievements/"
            f"{version.achievement_id}/"
        )
        page.get_by_role("link", name="Award from a file").click()

        # The dry run shows each bad row with its column and issues nothing.
        page.get_by_label("CSV or Excel file").set_input_files(
            {"name": "cohort.csv", "mimeType": "text/csv", "buffer": BAD.encode("gb18030")}
        )
        page.get_by_role("button", name="Check the file").click()
        expect(page.get_by_text("2 of 3 rows have errors")).to_be_visible()
        expect(
            page.get_by_text("“li.hua-at-example.com” is not an e-mail address.")
        ).to_be_visible()
        expect(page.get_by_text("“someday” is not a date")).to_be_visible()
        expect(page.get_by_role("button", name="Issue 3 badges")).to_have_count(0)
        screenshot(page, "bulk-dry-run-errors")
        assert Award.objects.count() == 0

        # Fixed and uploaded again: every row as the learner will see it, then issued.
        page.get_by_role("link", name="Upload another file").click()
        page.get_by_label("CSV or Excel file").set_input_files(
            {"name": "cohort.csv", "mimeType": "text/csv", "buffer": FIXED.encode("utf-8-sig")}
        )
        page.get_by_role("button", name="Check the file").click()
        expect(page.get_by_text("All 3 rows are ready")).to_be_visible()
        expect(page.get_by_role("cell", name="数据素养 (中文)")).to_be_visible()
        screenshot(page, "bulk-dry-run-ready")
        page.get_by_role("button", name="Issue 3 badges").click()
        expect(page.get_by_test_id("bulk-percent")).to_contain_text("100 %", timeout=60_000)
        expect(page.get_by_text("Issued and e-mailed").first).to_be_visible(timeout=30_000)
        screenshot(page, "bulk-done")
        context.close()
        assert Award.objects.count() == 3

        # The learner opens the link in the e-mail and accepts the badge.
        (message,) = [m for m in mail.outbox if m.to == ["li.hua@example.com"]]
        link = next(line.strip() for line in message.body.splitlines() if "/claim/" in line)
        phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        learner = phone.new_page()
        learner.goto(link)
        expect(learner.get_by_role("heading", name="数据素养")).to_be_visible()
        learner.locator("#claim-name-yes").check()  # claiming asks whether to show the name
        learner.get_by_role("button").filter(has_text="接受").or_(
            learner.get_by_role("button", name="Accept the badge")
        ).click()
        expect(learner.get_by_role("status")).to_be_visible()
        screenshot(learner, "bulk-claimed-phone")
        phone.close()
        claimed = Award.objects.get(recipient_email="li.hua@example.com")
        assert claimed.claimed_at is not None
