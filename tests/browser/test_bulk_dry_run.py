"""The bulk dry run in a real browser (issue 20, D1 and D6): a `javascript:` evidence URL the
dry run refused is inert text (clicking it runs nothing), and every row's status and errors are
in view without scrolling sideways, at 1280 px and at 390 px, in English and Chinese."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from playwright.sync_api import Browser, Dialog, Page, expect
from pytest_django.live_server_helper import LiveServer

from achievements import services as achievement_services
from badges.models import Award, BulkBatch
from tests.badges.helpers import award
from tests.base import PASSWORD, make_cast
from tests.browser.conftest import screenshot
from tests.browser.test_staff_console import sign_in
from tests.frameworks.helpers import choose, draft_micro, place, reference

pytestmark = pytest.mark.django_db(transaction=True)

COHORT = (
    "Email,Name,Evidence URL,Evidence narrative,Valid until,Result,Language,Credits earned\n"
    "ana.tester@uni.ac.nz,Ana Tester,https://portfolio.uni.ac.nz/ana/final-project-report-2026,"
    "Final project report,2031-06-30,A,en,8\n"
    "mallory@uni.ac.nz,Mallory,javascript:alert(1),,,B,en,15\n"
    "li.hua@uni.ac.nz,李华,https://portfolio.uni.ac.nz/li-hua,期末项目报告,,A,zh,15\n"
    "lee@example.com,Lee Learner,https://example.com/portfolio/lee,Report,,,,\n"
    "wang.xiaoming.with.a.very.long.address@students.uni.ac.nz,王小明,,,,,zh,40\n"
)
SHOTS = Path(os.environ.get("H4_SHOTS", "var/screenshots"))


def _no_sideways_scroll(page: Page) -> None:
    """The page is no wider than the window, and each row's status cell is inside it."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for box in page.get_by_test_id("row-status").all():
        bounds = box.bounding_box()
        assert bounds is not None and bounds["x"] >= 0
        assert bounds["x"] + bounds["width"] <= width, bounds


def test_a_refused_javascript_url_is_inert_and_status_is_in_view_at_any_width(
    live_server: LiveServer, browser: Browser
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        reference()
        cast = make_cast()
        draft = draft_micro(cast.editor, cast.issuer)
        place(cast.editor, draft, credits=(("nzqcf-credit", "15"),), notional_hours=150)
        version = achievement_services.publish_version(actor=cast.editor, version=draft)
        award(cast.awarder, version, email="ana.tester@uni.ac.nz", name="Ana Tester")
        context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        dialogs: list[str] = []

        def dismiss(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        sign_in(page, live_server, (cast.awarder.email, PASSWORD))
        slug = cast.institution.slug
        page.goto(
            live_server.url + reverse("manage:bulk_upload", args=[slug, version.achievement_id])
        )
        page.get_by_label("CSV or Excel file").set_input_files(
            {"name": "cohort.csv", "mimeType": "text/csv", "buffer": COHORT.encode()}
        )
        page.get_by_role("button", name="Check the file").click()
        expect(page.get_by_role("heading", name="Dry run")).to_be_visible()

        # D1: the refused value is shown, as text: clicking it runs nothing.
        refused = page.locator("tr[data-row='3']").get_by_text("javascript:alert(1)")
        expect(refused).to_be_visible()
        refused.click()
        page.wait_for_timeout(500)  # a dialog the click opened would be reported by now
        assert dialogs == []
        assert refused.evaluate("node => node.closest('a') === null")
        assert page.locator("a[href^='javascript' i]").count() == 0
        expect(page.locator("tr[data-row='2'] a[href^='https://portfolio']")).to_have_count(1)

        # D6, D8, D9, D25: status and errors first; skipped, example and labels read plainly.
        expect(page.get_by_text("3 of 5 rows have errors")).to_be_visible()
        row = page.locator("tr[data-row='3']").get_by_test_id("row-status")
        expect(row).to_contain_text("Evidence links must start with https:// or http://.")
        expect(page.locator("tr[data-row='2']").get_by_test_id("row-status")).to_contain_text(
            "Will be skipped"
        )
        expect(page.locator("tr[data-row='5']").get_by_test_id("row-status")).to_contain_text(
            "This is the template's example row; delete it."
        )
        expect(page.locator("tr[data-row='6']")).to_contain_text("Credits earned")
        _no_sideways_scroll(page)
        _pictures(page, "en")
        signed_in = context.storage_state()
        context.close()

        zh = browser.new_context(
            locale="zh-CN", viewport={"width": 1280, "height": 900}, storage_state=signed_in
        )
        page = zh.new_page()
        batch = BulkBatch.objects.get()
        page.goto(live_server.url + reverse("manage:bulk_batch", args=[slug, batch.pk]))
        expect(page.get_by_role("heading", name="试运行")).to_be_visible()
        expect(page.locator("tr[data-row='4']")).to_contain_text("(中文)")
        _no_sideways_scroll(page)
        _pictures(page, "zh")
        zh.close()
        assert Award.objects.count() == 1  # the dry run issued nothing


def test_the_upload_page_shows_an_unmet_policy_before_a_file_is_chosen(
    live_server: LiveServer, browser: Browser
) -> None:
    reference()
    cast = make_cast()
    draft = draft_micro(cast.editor, cast.issuer)
    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    choose(cast.owner, cast.institution, "nzqcf-micro")  # chosen after it was published
    url = reverse("manage:bulk_upload", args=[cast.institution.slug, version.achievement_id])
    for locale, language in (("en-GB", "en"), ("zh-CN", "zh")):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        if language == "en":
            sign_in(page, live_server, (cast.awarder.email, PASSWORD))
            signed_in = context.storage_state()
        else:
            context.close()
            context = browser.new_context(
                locale=locale, viewport={"width": 1280, "height": 900}, storage_state=signed_in
            )
            page = context.new_page()
        page.goto(live_server.url + url)
        notice = page.get_by_test_id("unmet-policies")
        expect(notice).to_contain_text("NZQCF")
        expect(page.locator("form button[type=submit]:disabled")).to_have_count(1)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            screenshot(page, f"bulk-upload-unmet-{language}-{width}")
            if SHOTS.exists():
                page.screenshot(path=str(SHOTS / f"upload-{language}-{width}.png"), full_page=True)
        context.close()


def _pictures(page: Page, language: str) -> None:
    """Screenshots of the dry run at 1280 px and 390 px (the phone: each row a card)."""
    screenshot(page, f"bulk-dry-run-{language}-1280")
    if SHOTS.exists():
        page.screenshot(path=str(SHOTS / f"dry-run-{language}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _no_sideways_scroll(page)
    screenshot(page, f"bulk-dry-run-{language}-390")
    if SHOTS.exists():
        page.screenshot(path=str(SHOTS / f"dry-run-{language}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
