"""Issue 14 in a real browser: an owner registers an API client and its secret, copied from
the page, gets a token; a colleague approves a staff app on the consent page and the app's
token acts as them; a member of another institution is refused. Each page is kept as a
screenshot at 1280 px in English and Chinese (``INSIGNIA_SCREENSHOTS``) for a person to look at.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django.test import Client, override_settings
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from badges.tokens import services as token_services
from integrations.models import ApiClient
from integrations.oauth import services
from tests.badges.helpers import make_published
from tests.base import Cast, make_cast
from tests.browser.conftest import screenshot
from tests.integrations.test_console_consent import (
    REDIRECT,
    authorize_params,
    console_catalogue,  # noqa: F401 - a fixture
    exchange,
    pkce,
)

pytestmark = pytest.mark.django_db(transaction=True)

LOCALES = {"en": "en-GB", "zh": "zh-CN"}


@pytest.fixture
def cast_live(live_server: LiveServer) -> Iterator[Cast]:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        yield make_cast()


def _context(browser: Browser, server: LiveServer, person: User, locale: str) -> BrowserContext:
    """A browser signed in as ``person`` (the session of Django's test client)."""
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    signed_in = Client()
    signed_in.force_login(person)
    cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server.url}]
    )
    return context


def _token(client_id: str, secret: str) -> tuple[int, Any]:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "scope": "awards:read"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    return response.status_code, response.json()


def _no_overflow(page: Page) -> None:
    """Nothing sticks out sideways at 1280 px (a long id, a command, a table)."""
    wider = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert wider is False


def test_an_owner_registers_a_client_and_the_copied_secret_gets_a_token(
    browser: Browser, live_server: LiveServer, cast_live: Cast
) -> None:
    cast = cast_live
    context = _context(browser, live_server, cast.owner, "en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/manage/{cast.institution.slug}/issuers/")
    # Linked from the issuers page (beside the API tokens) and from the side navigation.
    page.locator("#console-content").get_by_role("link", name="API clients").click()
    assert page.locator("nav").get_by_role("link", name="API clients").count() == 1

    page.get_by_label("Name").fill("Student records")
    page.get_by_label("awards:revoke").check()
    page.get_by_label("Poly Engineering (poly-engineering)").check()
    page.get_by_role("button", name="Register client").click()

    expect(page.get_by_text("shown only this once")).to_be_visible()
    client_id = page.locator("#new-client-id").input_value()
    secret = page.locator("#new-client-secret").input_value()
    status, answer = _token(client_id, secret)
    assert status == 200, answer
    stored = ApiClient.objects.get(application__client_id=client_id)
    assert stored.scopes == "awards:read awards:revoke awards:write"
    _no_overflow(page)

    page.goto(f"{live_server.url}/manage/{cast.institution.slug}/api/clients/")
    page.get_by_role("link", name="Revoke Student records").click()
    page.get_by_role("button", name="Revoke client").click()
    expect(page.get_by_text("Client “Student records” is revoked")).to_be_visible()
    assert _token(client_id, secret)[0] == 401
    context.close()


def _approve_in_browser(
    browser: Browser, server: LiveServer, person: User, app: ApiClient, locale: str
) -> tuple[Page, BrowserContext, str, dict[str, str]]:
    verifier, challenge = pkce()
    context = _context(browser, server, person, locale)
    page = context.new_page()
    params = authorize_params(app, challenge, "awards:read awards:write")
    page.goto(f"{server.url}/oauth/authorize/?{urlencode(params)}")
    return page, context, verifier, params


def test_a_colleague_approves_a_staff_app_and_an_outsider_is_refused(
    browser: Browser, live_server: LiveServer, cast_live: Cast
) -> None:
    cast = cast_live
    version = make_published(cast.editor, cast.issuer)
    app, secret = services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="Grading app",
        grant_type="authorization-code",
        scopes=["awards:read", "awards:write"],
        redirect_uris=[REDIRECT],
    )
    page, context, verifier, _params = _approve_in_browser(
        browser, live_server, cast.awarder, app, "en-GB"
    )
    arrived: list[str] = []

    def the_app(route: Route) -> None:  # the app's callback, which is not on this machine
        arrived.append(route.request.url)
        route.fulfill(status=200, body="signed in", content_type="text/plain")

    page.route(f"{REDIRECT}**", the_app)
    expect(page.get_by_role("heading", name="Allow “Grading app” to use Insignia as you?"))
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("signed in")).to_be_visible()

    code = parse_qs(urlsplit(arrived[0]).query)["code"][0]
    status, token = exchange(app, secret, code, verifier)
    assert status == 200, token
    made = Client().post(
        f"/api/v1/achievements/{version.achievement_id}/awards",
        {"email": "ada@example.com", "name": "Ada"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token['access_token']}",
    )
    assert made.status_code == 201, made.content
    context.close()

    page, context, _verifier, _params = _approve_in_browser(
        browser, live_server, cast.outsider, app, "en-GB"
    )
    expect(page.get_by_role("heading", name="You cannot approve this app")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    context.close()


@pytest.mark.usefixtures("console_catalogue")
@pytest.mark.parametrize("language", ["en", "zh"])
def test_screenshots_of_the_console_pages(
    browser: Browser, live_server: LiveServer, cast_live: Cast, language: str
) -> None:
    cast = cast_live
    locale = LOCALES[language]
    slug = cast.institution.slug
    make_published(cast.editor, cast.issuer)
    services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="Student records",
        grant_type="client-credentials",
        scopes=["awards:read", "awards:write", "awards:revoke"],
        issuers=[cast.issuer],
    )
    app, secret = services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="Grading app",
        grant_type="authorization-code",
        scopes=["awards:read", "awards:write"],
        redirect_uris=[REDIRECT],
    )
    token_services.create_api_token(
        actor=cast.owner, issuer=cast.issuer, name="Moodle", scopes=["awards:read"]
    )
    context = _context(browser, live_server, cast.owner, locale)
    page = context.new_page()

    page.goto(f"{live_server.url}/manage/{slug}/api/clients/")
    _no_overflow(page)
    screenshot(page, f"api-clients-{language}")
    page.locator("#id_name").fill("LMS")
    page.locator("input[name=grant_type][value=authorization-code]").check()
    page.locator("#id_redirect_uris").fill("https://lms.example/oauth/callback")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("#new-client-secret")).to_be_visible()
    _no_overflow(page)
    screenshot(page, f"api-client-registered-{language}")
    page.goto(f"{live_server.url}/manage/{slug}/api/clients/{app.application.client_id}/revoke/")
    screenshot(page, f"api-client-revoke-{language}")

    page.goto(f"{live_server.url}/manage/{slug}/issuers/{cast.issuer.slug}/api-tokens/")
    _no_overflow(page)
    screenshot(page, f"api-tokens-{language}")

    page.goto(f"{live_server.url}/manage/account/tokens/")
    page.locator("#id_name").fill("Grading script")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("#new-key-value")).to_be_visible()
    _no_overflow(page)
    screenshot(page, f"account-tokens-{language}")
    context.close()

    page, context, verifier, _params = _approve_in_browser(
        browser, live_server, cast.awarder, app, locale
    )
    expect(page.locator("#authorizationForm")).to_be_visible()
    _no_overflow(page)
    screenshot(page, f"consent-{language}")
    arrived: list[str] = []

    def the_app(route: Route) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, body="ok", content_type="text/plain")

    page.route(f"{REDIRECT}**", the_app)
    page.locator("button[name=allow]").click()
    expect(page.get_by_text("ok")).to_be_visible()
    code = parse_qs(urlsplit(arrived[0]).query)["code"][0]
    assert exchange(app, secret, code, verifier)[0] == 200
    page.goto(f"{live_server.url}/manage/account/tokens/")
    expect(page.get_by_role("cell", name="Grading app", exact=True)).to_be_visible()
    screenshot(page, f"account-apps-{language}")
    context.close()

    page, context, _verifier, _params = _approve_in_browser(
        browser, live_server, cast.outsider, app, locale
    )
    screenshot(page, f"consent-refused-{language}")
    context.close()
