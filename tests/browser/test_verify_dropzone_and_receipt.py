"""The verify page and a receipt in a real browser (Debian's Chromium): a badge image dropped
on the drop zone, and a receipt printed on A4 without the site's navigation (D7b, D27)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from badges.models import Award
from openbadges import baking
from tests.badges.helpers import award, make_published
from tests.base import make_cast, png_bytes
from tests.browser.conftest import new_context, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("INSIGNIA_SCREENSHOTS", "var/screenshots"))


@pytest.fixture
def good(transactional_db: None) -> Award:
    cast = make_cast()
    return award(cast.awarder, make_published(cast.owner, cast.issuer))


def _drop(page: Page, data: bytes, name: str) -> None:
    """Drag a file from the desktop onto the drop zone, as a person would."""
    page.evaluate(
        """([encoded, name]) => {
            const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/png" }));
            const zone = document.querySelector("[data-dropzone]");
            for (const kind of ["dragenter", "dragover", "drop"]) {
                const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
                zone.dispatchEvent(new DragEvent(kind, init));
            }
        }""",
        [base64.b64encode(data).decode(), name],
    )


@pytest.mark.parametrize(("language", "locale"), [("en", "en-GB"), ("zh", "zh-CN")])
def test_a_badge_image_dropped_on_the_zone_is_verified(
    browser: Browser, live_server: LiveServer, good: Award, language: str, locale: str
) -> None:
    context = new_context(browser, locale=locale)
    page = context.new_page()
    page.goto(f"{live_server.url}/verify")
    zone = page.locator("[data-dropzone]")
    expect(zone).to_be_visible()
    # The native input is there for keyboards and screen readers, but its browser-language
    # chrome ("Choose File / No file chosen") is not drawn.
    box = page.locator("#verify-file").bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1

    _drop(page, baking.bake_png(png_bytes(), good.credential_json), "ana-badge.png")

    expect(zone.locator("[data-dropzone-chosen]")).to_have_text("ana-badge.png")
    page.locator(".verify-form button[type=submit]").click()
    expect(page.locator(".verdict")).to_have_attribute("data-verdict", "valid")
    screenshot(page, f"verify-dropped-{language}")
    context.close()


def test_a_printed_receipt_has_no_navigation_and_shows_its_id(
    browser: Browser, live_server: LiveServer, good: Award
) -> None:
    context = new_context(browser, locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/verify?url={good.credential['id']}")
    page.get_by_role("button", name="Save a signed receipt").click()
    expect(page.get_by_role("heading", name="Verification receipt")).to_be_visible()
    receipt_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    page.emulate_media(media="print")

    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".receipt-id")).to_contain_text(receipt_id)
    expect(page.locator(".receipt-signature")).to_contain_text(f"/verify/receipts/{receipt_id}")
    expect(page.get_by_role("link", name="Signed JSON")).to_be_hidden()
    titles = page.locator(".check-title")
    statuses = page.locator(".check-status")
    for index in range(titles.count()):  # the status word is beside the title, not on it
        title, status = titles.nth(index).bounding_box(), statuses.nth(index).bounding_box()
        assert title is not None and status is not None
        assert title["x"] + title["width"] <= status["x"] + 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(SHOTS / "verify-receipt-print.pdf"), format="A4")
    context.close()
