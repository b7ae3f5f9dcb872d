"""The Content-Security-Policy refuses nothing our own pages need (issue 20 item 7).

Every page is served with ``script-src 'self'`` and no inline script or eval
(settings.INSIGNIA_CSP). A real browser opens the main public, learner and console pages and
records every violation the page reports (``securitypolicyviolation``) and every console error
about the policy; there must be none. It also checks what the scripts moved to static files
do: copy buttons copy, the LTI/SAML auto-post page sends its form, htmx's request indicator is
hidden until a request runs (its styles are ours now, not injected) and htmx still swaps in
the verification result.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import override_settings
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from badges.models import Achievement, Award
from tests.browser.conftest import new_context, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

OWNER = ("owner@demo.insignia.test", "insignia-owner-demo")
LEARNER = ("aroha.learner@demo.insignia.test", "insignia-learner-demo")
# Installed before any page script runs (DevTools, so the policy does not apply to it).
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


class Watched:
    """A browser context whose pages report policy violations and policy console errors."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.errors: list[str] = []
        context.add_init_script(LISTEN)
        context.on("page", self._watch)

    def _watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.errors.append(text)

    def open(self, url: str) -> Page:
        page = self.context.new_page()
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response)
        page.wait_for_load_state("networkidle")
        return page

    def violations(self, page: Page) -> list[str]:
        found: list[str] = page.evaluate("window.__violations || []")
        return found


@pytest.fixture
def demo(live_server: LiveServer) -> Iterator[None]:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        yield


def sign_in(page: Page, server: LiveServer, url: str, who: tuple[str, str]) -> None:
    page.goto(f"{server.url}{url}")
    page.locator('input[name="username"]').fill(who[0])
    page.locator('input[name="password"]').fill(who[1])
    with page.expect_navigation():
        page.locator('input[name="password"]').press("Enter")
    page.wait_for_load_state("networkidle")
    assert "/login/" not in page.url, page.url


def test_the_main_pages_break_no_rule_of_the_policy(
    browser: Browser, live_server: LiveServer, demo: None
) -> None:
    award = Award.objects.filter(recipient_email=LEARNER[0]).first()
    assert award is not None
    achievement = Achievement.objects.get(slug="data-literacy")
    institution = achievement.issuer.institution.slug
    issuer = achievement.issuer.slug
    seen: dict[str, list[str]] = {}
    for locale, width in (("en-GB", 1280), ("zh-CN", 390)):
        context = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
        context.set_default_timeout(15_000)
        watched = Watched(context)
        public = [
            "/",
            "/verify",
            f"/credentials/{award.pk}",
        ]
        for url in public:
            page = watched.open(f"{live_server.url}{url}")
            seen[f"{locale} {url}"] = watched.violations(page)
            screenshot(page, f"csp-{locale}-{width}-{url.strip('/').replace('/', '-') or 'home'}")
            page.close()

        learner = context.new_page()
        sign_in(learner, live_server, "/backpack/login/", LEARNER)
        for url in ("/backpack/", f"/backpack/badges/{award.pk}/"):
            page = watched.open(f"{live_server.url}{url}")
            seen[f"{locale} {url}"] = watched.violations(page)
            screenshot(page, f"csp-{locale}-{width}-learner-{url.strip('/').replace('/', '-')}")
            page.close()
        context.clear_cookies()

        staff = context.new_page()
        sign_in(staff, live_server, "/manage/", OWNER)
        console = [
            "/manage/",
            f"/manage/{institution}/",
            f"/manage/{institution}/awards/",
            f"/manage/{institution}/frameworks/",
            f"/manage/{institution}/recognition/",
            f"/manage/{institution}/achievements/{achievement.pk}/bulk/",
            f"/manage/{institution}/issuers/{issuer}/api-tokens/",
        ]
        for url in console:
            page = watched.open(f"{live_server.url}{url}")
            seen[f"{locale} {url}"] = watched.violations(page)
            name = url.removeprefix(f"/manage/{institution}").strip("/").replace("/", "-")
            screenshot(page, f"csp-{locale}-{width}-console-{name or 'home'}")
            page.close()
        assert watched.errors == [], watched.errors
        context.close()
    assert {url: found for url, found in seen.items() if found} == {}
    assert len(seen) == 2 * 12


def test_copy_buttons_copy_and_htmx_works_under_the_policy(
    browser: Browser, live_server: LiveServer, demo: None
) -> None:
    achievement = Achievement.objects.get(slug="data-literacy")
    award = Award.objects.filter(recipient_email=LEARNER[0]).first()
    assert award is not None
    context = new_context(browser)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    watched = Watched(context)
    page = context.new_page()
    sign_in(page, live_server, "/manage/", OWNER)
    institution, issuer = achievement.issuer.institution.slug, achievement.issuer.slug
    page = watched.open(f"{live_server.url}/manage/{institution}/issuers/{issuer}/api-tokens/")
    button = page.get_by_role("button", name="Copy command")
    button.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("curl"), copied
    assert copied == page.locator("#example-call").inner_text()

    # htmx: the indicator stays hidden until a request runs, and the answer is swapped in.
    page = watched.open(f"{live_server.url}/verify")
    busy = page.locator("#verify-busy")
    assert busy.evaluate("element => getComputedStyle(element).opacity") == "0"
    page.get_by_label("Badge link").fill(f"{live_server.url}/credentials/{award.pk}")
    with page.expect_response(lambda r: r.url.endswith("/verify") and r.status == 200) as answer:
        page.get_by_role("button", name="Verify").click()
    assert answer.value.request.headers.get("hx-request") == "true"
    expect(page.locator("#verify-result")).to_contain_text("Valid")
    assert page.url == f"{live_server.url}/verify"  # swapped in place, not a new page
    screenshot(page, "csp-verify-result")
    assert watched.violations(page) == []
    assert watched.errors == []
    context.close()


def test_the_auto_post_page_sends_its_form_under_the_policy(
    browser: Browser, live_server: LiveServer
) -> None:
    """The page a SAML answer or an LTI launch continues through, served with the real policy
    from this server's origin (so its script is the static file, as in production)."""
    html = render_to_string(
        "auto_post.html",
        {
            "title": "Signing you in",
            "message": "One moment…",
            "action": f"{live_server.url}/__received",
            "fields": [("SAMLResponse", "PHNhbWw+"), ("RelayState", "next")],
            "hint": "Press the button to continue.",
            "button": "Continue",
        },
    )
    received: list[str] = []

    def serve(route: Route) -> None:
        route.fulfill(
            status=200,
            body=html,
            headers={"Content-Type": "text/html", "Content-Security-Policy": settings.INSIGNIA_CSP},
        )

    def receive(route: Route) -> None:
        received.append(route.request.post_data or "")
        route.fulfill(status=200, body="received", headers={"Content-Type": "text/plain"})

    context = new_context(browser)
    watched = Watched(context)
    context.route(f"{live_server.url}/__auto-post", serve)
    context.route(f"{live_server.url}/__received", receive)
    page = context.new_page()
    page.goto(f"{live_server.url}/__auto-post")
    page.wait_for_url(f"{live_server.url}/__received")
    assert received == ["SAMLResponse=PHNhbWw%2B&RelayState=next"]
    assert watched.errors == [], json.dumps(watched.errors)
    context.close()
