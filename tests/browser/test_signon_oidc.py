"""Campus sign-on through a real OpenID provider (panva's ``oidc-provider``) in a real
browser: a staff member lands in the console with the role the owner mapped; a learner lands
in their backpack, in Chinese for a Chinese browser, and sees the badge their institution
awarded to their student number."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings
from playwright.sync_api import Browser, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from badges.models import IdentifierType
from issuers.models import Membership, Role
from signon.models import IdentityProvider
from tests.badges.helpers import award, make_published
from tests.base import Cast, make_cast
from tests.browser.conftest import new_context, screenshot
from tests.signon.oidc.helpers import connect, new_chinese_strings
from tests.signon.oidc.op import OpenIDProvider, start_provider

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def openid_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIDProvider]:
    provider = start_provider(tmp_path_factory.mktemp("oidc-browser") / "provider.log")
    yield provider
    provider.stop()


@pytest.fixture
def poly(
    openid_provider: OpenIDProvider, live_server: LiveServer, settings: Settings
) -> Iterator[tuple[Cast, IdentityProvider]]:
    """Poly Technic signs its people in through the OpenID provider (staff → awarder)."""
    settings.INSIGNIA_FETCH_ALLOWLIST = {openid_provider.host: openid_provider.host}
    cache.clear()
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        yield cast, connect(openid_provider, cast.institution, origin=live_server.url)


def sign_in_at_provider(page: Page, login: str) -> None:
    """The provider's own (development) pages: any login name and password, then consent."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_a_staff_member_signs_in_and_lands_in_the_console_as_an_awarder(
    browser: Browser, live_server: LiveServer, poly: tuple[Cast, IdentityProvider]
) -> None:
    cast, _provider = poly
    page = new_context(browser, locale="en-GB").new_page()

    page.goto(f"{live_server.url}/manage/")
    page.get_by_role("link", name="Sign in with your institution").click()
    page.get_by_role("link", name="Poly Technic").click()
    expect(page.locator("input[name=login]")).to_be_visible()  # at the provider now
    screenshot(page, "signon-oidc-provider-login")
    sign_in_at_provider(page, "staff1")

    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.locator(".badge-role")).to_have_text("Awarder")
    assert page.url == f"{live_server.url}/manage/poly/"
    screenshot(page, "signon-oidc-staff-console")
    membership = Membership.objects.get(user__email="staff1@uni.test")
    assert (membership.institution, membership.role) == (cast.institution, Role.AWARDER)


def test_a_learner_signs_in_in_chinese_and_lands_in_the_backpack(
    browser: Browser, live_server: LiveServer, poly: tuple[Cast, IdentityProvider]
) -> None:
    page = new_context(browser, locale="zh-CN").new_page()

    with new_chinese_strings():
        page.goto(f"{live_server.url}/signon/poly/")
        sign_in_at_provider(page, "learner1")

        expect(page.get_by_role("heading", name="我的徽章")).to_be_visible()
        assert page.url == f"{live_server.url}/backpack/"
        screenshot(page, "signon-oidc-learner-backpack-zh")


def test_a_cancelled_sign_in_explains_itself_in_chinese(
    browser: Browser, live_server: LiveServer, poly: tuple[Cast, IdentityProvider]
) -> None:
    page = new_context(browser, locale="zh-CN").new_page()

    with new_chinese_strings():
        page.goto(f"{live_server.url}/signon/poly/oidc/login/")
        page.get_by_role("link", name=re.compile("Cancel", re.IGNORECASE)).click()

        expect(page.get_by_role("alert")).to_contain_text("登录已在你所在机构处取消")
        screenshot(page, "signon-oidc-cancelled-zh")


def test_a_learner_sees_the_badge_awarded_to_their_student_number(
    browser: Browser, live_server: LiveServer, poly: tuple[Cast, IdentityProvider]
) -> None:
    cast, _provider = poly
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        version = make_published(cast.editor, cast.issuer, name_en="Data Literacy")
        award(
            cast.awarder,
            version,
            email="",
            identifier_type=IdentifierType.STUDENT_ID,
            identifier="20261234",
            name="Lee Learner",
        )
    page = new_context(browser, locale="en-GB").new_page()

    page.goto(f"{live_server.url}/signon/poly/")
    sign_in_at_provider(page, "learner1")

    expect(page.get_by_role("heading", name="My badges")).to_be_visible()
    expect(page.get_by_role("link", name="Data Literacy")).to_be_visible()
    screenshot(page, "signon-oidc-learner-student-number-badge")
