"""Done-when of issue 20, item 1, in a real browser: 1,200 awards are issued; a registrar finds
one learner by name on page 1 of a search; a filter plus "revoke all matching" shows the exact
count (and a sample of whose) before anything is revoked, and a changed set is never revoked
unseen; the CSV export of the filter downloads, and LibreOffice opens it with no formula
evaluated (a learner named ``=1+1`` stays text). Screenshots of the list at 1280 px and
390 px, in English and Chinese, check that the table fits its box (D6, D22)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from django.test import override_settings
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from awarding import services as awarding_services
from awarding.rules import AwardRequest
from badges.models import Award, AwardStatus
from tests.badges.helpers import make_published
from tests.base import PASSWORD, make_cast
from tests.browser.conftest import new_context, screenshot
from tests.browser.test_staff_console import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

COHORT = 1_200
FORMULA_NAMES = ["=1+1", "+2+3", "-4+5", "@SUM(1)"]


def _fits(page: Page) -> None:
    """Nothing sticks out sideways: the page is no wider than the window."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] if page.viewport_size else True, width


def test_a_registrar_searches_revokes_a_filtered_set_and_exports_it(
    live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        main = make_published(cast.editor, cast.issuer)
        short = make_published(cast.editor, cast.issuer, slug="short-course", name_en="Welding")
        requests = [
            AwardRequest(email=f"learner{n:04}@example.com", name=f"Learner {n:04}")
            for n in range(COHORT - 40)
        ]
        requests.append(AwardRequest(email="ana.tester@example.com", name="Ana Tester"))
        awarding_services.award_badges(actor=cast.awarder, version=main, requests=requests)
        awarding_services.award_badges(
            actor=cast.awarder,
            version=short,
            requests=[
                AwardRequest(email=f"weld{n}@example.com", name=FORMULA_NAMES[n % 4] + f" {n}")
                if n < 4
                else AwardRequest(email=f"weld{n}@example.com", name=f"Welder {n}")
                for n in range(39)
            ],
        )
        assert Award.objects.count() == COHORT
        # Ana was awarded early in a long term: her badge is far down the newest-first list.

        context = new_context(browser)
        page = context.new_page()
        sign_in(page, live_server, (cast.editor.email, PASSWORD))
        awards = f"{live_server.url}/manage/{cast.institution.slug}/awards/"
        page.goto(awards)
        # The list counts to 1,000 (each match is read), then says so; a bulk action counts exactly.
        expect(page.locator("#award-count")).to_have_text("More than 1,000 awards match.")
        expect(page.get_by_role("link", name="Next →")).to_be_visible()

        # A search by part of her name finds her on page 1.
        page.get_by_label("Search").fill("ana tes")
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#award-count")).to_have_text("1 award matches.")
        expect(page.get_by_role("row", name="Ana Tester")).to_be_visible()
        assert "q=ana+tes" in page.url  # a link that can be kept and shared

        # A filter, then "revoke all matching": the count comes first, nothing is revoked yet.
        page.goto(awards)
        page.get_by_label("Micro-credential").select_option(label="Poly Engineering · Welding")
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#award-count")).to_have_text("39 awards match.")
        screenshot(page, "award-management-filtered")
        page.get_by_label("Action").select_option("revoke")
        page.get_by_role("button", name="All 39 matching…").click()
        expect(page.locator("#bulk-summary")).to_have_text("39 badges will be revoked.")
        screenshot(page, "award-management-confirm")
        expect(page.get_by_role("table")).to_contain_text("Welder")
        assert not Award.objects.filter(status=AwardStatus.REVOKED).exists()
        page.get_by_label("Reason").fill("The welding course was cancelled")
        page.get_by_role("button", name="Revoke: 39 badges").click()
        expect(page.get_by_text("39 badges revoked.")).to_be_visible()
        assert Award.objects.filter(status=AwardStatus.REVOKED).count() == 39
        assert not Award.objects.filter(
            status=AwardStatus.REVOKED, achievement_version=main
        ).exists()

        # The export of the filter downloads as CSV.
        with page.expect_download() as info:
            page.get_by_role("link", name="CSV").click()
        exported = tmp_path / "awards.csv"
        info.value.save_as(exported)
        text = exported.read_text(encoding="utf-8-sig")
        assert text.count("\n") == 40  # the header and the 39 filtered awards
        assert "'=1+1 0" in text and "Ana Tester" not in text
        context.close()

        _looks(browser, live_server, cast.editor.email, awards)

    _opens_in_libreoffice(exported, tmp_path)


def _looks(browser: Browser, server: LiveServer, email: str, awards: str) -> None:
    """The list at a laptop's and a phone's width, in English and Chinese: it fits."""
    for language in ("en", "zh-hans"):
        for width in (1280, 390):
            context = browser.new_context(viewport={"width": width, "height": 900})
            context.set_default_timeout(10_000)
            page = context.new_page()
            sign_in(page, server, (email, PASSWORD))
            context.add_cookies(
                [{"name": "insignia_language", "value": language, "url": server.url}]
            )
            page.goto(awards)
            expect(page.locator("#award-count")).to_be_visible()
            _fits(page)
            screenshot(page, f"award-management-{language}-{width}")
            context.close()


def _opens_in_libreoffice(exported: Path, tmp_path: Path) -> None:
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.skip("LibreOffice is not installed (scripts/ensure-system-deps installs it)")
    subprocess.run(
        [
            office,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path),
            str(exported),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    book = openpyxl.load_workbook(tmp_path / "awards.xlsx")
    sheet = book.active
    assert sheet is not None
    names = {str(row[1].value): row[1] for row in sheet.iter_rows(min_row=2)}
    hostile = [cell for name, cell in names.items() if name.lstrip("'")[:1] in "=+-@"]
    assert len(hostile) == 4
    for cell in hostile:
        assert cell.data_type == "s", (cell.value, cell.data_type)  # text, never a formula
        assert str(cell.value).lstrip("'")[:1] in "=+-@"  # as typed: not evaluated to 2
