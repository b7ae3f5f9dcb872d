"""The learner's one-step claim in a real browser (issue 20 item 5, review defect D5): the
award e-mail's claim link → accept, choosing to show the name → "Create an account to keep
it" (filled in) → signed in at once with the badge in the backpack, and no second e-mail.
Then the pages of the journey are photographed in en and zh at 1280 and 390 px."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from badges.models import Award
from earners.models import AwardPreference
from tests.badges.helpers import award, make_published
from tests.base import PASSWORD, make_cast
from tests.browser.conftest import new_context, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _claim_link(to: str) -> str:
    sent = [m for m in mail.outbox if m.to == [to]]
    assert len(sent) == 1, [m.subject for m in mail.outbox]
    found = re.search(r"https?://\S+/claim/[^\s/]+", str(sent[0].body))
    assert found is not None, sent[0].body
    return found.group(0)


def _fits(page: Page) -> None:
    """Nothing sticks out sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, (page.url, width, viewport)


def test_claim_sign_up_and_the_badge_is_in_the_backpack_with_the_name_shown(
    browser: Browser, live_server: LiveServer
) -> None:
    cache.clear()
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        version = make_published(cast.editor, cast.issuer)
        issued = award(cast.awarder, version, email="ana@example.com", name="Ana Tester")
        link = _claim_link("ana@example.com")
        sent_before = len(mail.outbox)

        context = new_context(browser)
        page = context.new_page()
        page.goto(link)
        expect(page.get_by_role("heading", name="Data Literacy")).to_be_visible()
        page.get_by_label("Yes, show “Ana Tester”").check()
        page.get_by_role("button", name="Create an account to keep it").click()

        # The sign-up form is filled in from the claim.
        expect(page.get_by_label("Your name")).to_have_value("Ana Tester")
        expect(page.get_by_label("E-mail address")).to_have_value("ana@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()

        # Signed in at once, on the badge in the backpack: no second e-mail to confirm.
        expect(
            page.get_by_text("Your account is ready. The badge is in your backpack.")
        ).to_be_visible()
        assert page.url.endswith(f"/backpack/badges/{issued.pk}/")
        assert len(mail.outbox) == sent_before
        expect(page.get_by_label("Show my name on the badge page")).to_be_checked()
        expect(page.get_by_role("link", name="Add to LinkedIn profile")).to_be_visible()
        page.get_by_role("link", name="My badges", exact=True).first.click()
        expect(page.locator(".bk-grid h2")).to_have_text(["Data Literacy"])
        expect(page.get_by_text("No badges yet")).to_have_count(0)
        # A learner is shown no staff console.
        expect(page.get_by_role("link", name="Staff console")).to_have_count(0)

        # The name choice is honoured on the public page.
        assert AwardPreference.objects.get(award=issued).show_name is True
        page.goto(f"{live_server.url}/credentials/{issued.pk}")
        expect(page.get_by_text("Awarded to Ana Tester")).to_be_visible()
        context.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_journey_pages_fit_at_desktop_and_phone_widths(
    browser: Browser, live_server: LiveServer, language: str
) -> None:
    cache.clear()
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        version = make_published(cast.editor, cast.issuer)
        issued: Award = award(cast.awarder, version, email="ana@example.com", name="Ana Tester")
        link = _claim_link("ana@example.com")
        contexts = {
            width: browser.new_context(
                locale="zh-CN" if language == "zh-hans" else "en-GB",
                viewport={"width": width, "height": 900},
            )
            for width in (1280, 390)
        }
        pages = {}
        for width, context in contexts.items():
            context.add_cookies(
                [{"name": "insignia_language", "value": language, "url": live_server.url}]
            )
            pages[width] = context.new_page()
            pages[width].goto(link)
            _fits(pages[width])
            screenshot(pages[width], f"h5-claim-{language}-{width}")
        # Accept and sign up at 1280 px; the phone follows with the same session.
        desktop, phone = pages[1280], pages[390]
        desktop.locator("#claim-name-yes").check()
        desktop.locator("button[value=signup]").click()
        phone.goto(desktop.url)
        for width, page in pages.items():
            _fits(page)
            screenshot(page, f"h5-signup-{language}-{width}")
        desktop.locator("#id_password").fill(PASSWORD)
        desktop.locator("form.stack button[type=submit]").click()
        desktop.wait_for_url(f"**/backpack/badges/{issued.pk}/")
        contexts[390].add_cookies(contexts[1280].cookies())  # type: ignore[arg-type]
        phone.goto(desktop.url)
        for width, page in pages.items():
            _fits(page)
            screenshot(page, f"h5-badge-{language}-{width}")
            page.goto(f"{live_server.url}/backpack/")
            _fits(page)
            screenshot(page, f"h5-backpack-{language}-{width}")
        for context in contexts.values():
            context.close()
