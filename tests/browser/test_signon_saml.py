"""Campus sign-on through SAML in a real browser: the identity provider (pysaml2, on
127.0.0.1) and Insignia (the live server, on localhost) are different sites, so the answer
arrives as a cross-site POST without Insignia's cookies, exactly as in production.

A staff member lands in the console with the role the owner mapped; a learner lands in their
backpack (in Chinese), sees the badge the institution awarded to their student number, and
signs out of both Insignia and the identity provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings
from django.utils import translation
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from awarding import services as awarding_services
from earners.models import InstitutionalIdentity
from issuers.models import Membership, Role
from tests.badges.helpers import make_published
from tests.base import Cast, make_cast
from tests.browser.conftest import new_context, screenshot
from tests.idp.saml_idp import SamlIdP
from tests.signon.saml.helpers import make_saml_provider

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def idp() -> Iterator[SamlIdP]:
    with SamlIdP() as server:
        yield server


@pytest.fixture
def poly(live_server: LiveServer, idp: SamlIdP) -> Iterator[Cast]:
    """Poly Technic with SAML sign-on through ``idp``, served by the live server."""
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        make_saml_provider(cast.institution, idp)
        yield cast


def sign_in_at_the_idp(page: Page, server: LiveServer, username: str, shot: str) -> None:
    page.goto(f"{server.url}/signon/poly/")
    expect(page.get_by_role("heading", name="Uni Test IdP")).to_be_visible()
    screenshot(page, shot)
    page.get_by_label("User name").fill(username)
    page.get_by_role("button", name="Sign in").click()


def test_a_staff_member_signs_in_through_the_institution_and_lands_in_the_console(
    browser: Browser, live_server: LiveServer, poly: Cast
) -> None:
    page = new_context(browser).new_page()
    sign_in_at_the_idp(page, live_server, "staff1", "signon-saml-idp-login")

    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert page.url == f"{live_server.url}/manage/poly/"
    expect(page.locator(".badge-role")).to_have_text("Awarder")
    expect(page.locator(".sign-out .who")).to_have_text("Sam Staff")
    screenshot(page, "signon-saml-staff-console")
    staff = User.objects.get(email="staff1@uni.test")
    assert Membership.objects.get(user=staff).role == Role.AWARDER


def test_a_learner_signs_in_in_chinese_sees_the_backpack_and_signs_out_everywhere(
    browser: Browser, live_server: LiveServer, poly: Cast, idp: SamlIdP
) -> None:
    page = new_context(browser, locale="zh-CN").new_page()
    sign_in_at_the_idp(page, live_server, "learner1", "signon-saml-idp-login-zh")

    with translation.override("zh-hans"):
        my_badges = translation.gettext("My badges")
        sign_out = translation.gettext("Sign out")
    expect(page.get_by_role("heading", name=my_badges)).to_be_visible()
    assert page.url == f"{live_server.url}/backpack/"
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    screenshot(page, "signon-saml-learner-backpack-zh")
    learner = User.objects.get(email="learner1@uni.test")
    assert InstitutionalIdentity.objects.filter(user=learner, value="20261234").exists()

    # Signing out goes through the identity provider (single logout) and back.
    answered = len(idp.logout_requests)
    page.locator(".sign-out").get_by_role("button", name=sign_out).click()
    page.wait_for_url(f"{live_server.url}/manage/login/")
    assert len(idp.logout_requests) == answered + 1
    screenshot(page, "signon-saml-signed-out-zh")
    page.goto(f"{live_server.url}/backpack/")
    assert "/backpack/login/" in page.url or "/manage/login/" in page.url


def test_a_learner_sees_the_badge_awarded_to_their_student_number(
    browser: Browser, live_server: LiveServer, poly: Cast
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        version = make_published(poly.editor, poly.issuer)
        awarding_services.award_badge(
            actor=poly.awarder,
            version=version,
            identifier_type="studentId",
            identifier="20261234",
            name="Lee Learner",
        )
        page = new_context(browser).new_page()
        sign_in_at_the_idp(page, live_server, "learner1", "signon-saml-idp-login-award")

        expect(page.get_by_role("heading", name="My badges")).to_be_visible()
        expect(page.get_by_role("link", name="Data Literacy")).to_be_visible()
        screenshot(page, "signon-saml-learner-badge-by-student-number")


def test_without_javascript_a_button_finishes_the_sign_in(
    browser: Browser, live_server: LiveServer, poly: Cast
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    sign_in_at_the_idp(page, live_server, "learner1", "signon-saml-idp-login-nojs")
    page.get_by_role("button", name="Continue").click()  # the identity provider's page
    expect(page.get_by_role("heading", name="Signing you in")).to_be_visible()
    screenshot(page, "signon-saml-continue-nojs")
    page.get_by_role("button", name="Continue").click()  # ours
    expect(page.get_by_role("heading", name="My badges")).to_be_visible()
    context.close()
