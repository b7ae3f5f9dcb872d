"""Staff use the console in a real browser: sign in, set up an issuer, invite a colleague,
switch language; an awarder cannot reach the owner's pages."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from issuers.models import Issuer, Membership, Role
from tests.base import png_bytes
from tests.browser.conftest import new_context, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

OWNER = ("owner@demo.insignia.test", "insignia-owner-demo")
AWARDER = ("awarder@demo.insignia.test", "insignia-awarder-demo")


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - discarded output


def sign_in(page: Page, server: LiveServer, who: tuple[str, str]) -> None:
    page.goto(f"{server.url}/manage/")
    page.get_by_label("E-mail address").fill(who[0])
    page.get_by_label("Password").fill(who[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def test_an_owner_creates_an_issuer_with_a_logo(
    page: Page, live_server: LiveServer, demo: None, tmp_path: object
) -> None:
    sign_in(page, live_server, OWNER)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Issuers").click()
    page.get_by_role("link", name="New issuer").click()
    page.get_by_label("Short name").fill("demo-poly-design")
    page.get_by_label("Name (English)").fill("School of Design")
    page.get_by_label("Name (Chinese)").fill("设计学院")
    page.get_by_label("Web page").fill("https://demo-poly.example/design")
    page.get_by_label("Contact e-mail").fill("design@demo-poly.example")
    page.get_by_label("Image").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": png_bytes(120, 120, "#aa3300")}
    )
    page.get_by_role("button", name="Create issuer").click()

    expect(page.get_by_text("Issuer “School of Design” created.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("School of Design"))
    logo = row.locator("img")
    expect(logo).to_be_visible()
    # Visible once laid out (it has width/height attributes); wait for the bytes to arrive.
    loaded = (
        "img => img.complete ? img.naturalWidth"
        " : new Promise(done => { img.onload = () => done(img.naturalWidth) })"
    )
    assert logo.evaluate(loaded) == 120
    screenshot(page, "console-issuers")
    assert Issuer.objects.get(slug="demo-poly-design").image is not None


def test_a_bad_logo_is_refused_with_a_message_and_the_form_kept(
    page: Page, live_server: LiveServer, demo: None
) -> None:
    sign_in(page, live_server, OWNER)
    page.goto(f"{live_server.url}/manage/demo-poly/issuers/new/")
    page.get_by_label("Short name").fill("demo-poly-bad")
    page.get_by_label("Name (English)").fill("Bad Logo School")
    page.get_by_label("Web page").fill("https://demo-poly.example/bad")
    page.get_by_label("Contact e-mail").fill("bad@demo-poly.example")
    page.get_by_label("Image").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": b"<svg onload=alert(1)>"}
    )
    page.get_by_role("button", name="Create issuer").click()
    expect(page.get_by_text("This file is not a readable PNG or JPEG image.")).to_be_visible()
    expect(page.get_by_label("Name (English)")).to_have_value("Bad Logo School")
    assert not Issuer.objects.filter(slug="demo-poly-bad").exists()


def test_an_owner_invites_a_colleague_who_joins(
    browser: Browser, page: Page, live_server: LiveServer, demo: None
) -> None:
    sign_in(page, live_server, OWNER)
    page.goto(f"{live_server.url}/manage/demo-poly/members/")
    invite = page.get_by_role("form", name="Invite a colleague")
    invite.get_by_label("E-mail address").fill("new.colleague@demo-poly.example")
    invite.get_by_label("Role").select_option(Role.EDITOR)
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to new.colleague@demo-poly.example.")).to_be_visible()
    expect(page.get_by_role("heading", name="Pending invitations")).to_be_visible()
    screenshot(page, "console-members")

    (message,) = [m for m in mail.outbox if m.to == ["new.colleague@demo-poly.example"]]
    link = re.search(r"http://\S+/manage/invitations/\S+/", str(message.body))
    assert link is not None
    path = link.group(0).split("/manage/", 1)[1]

    colleague = new_context(browser).new_page()
    colleague.goto(f"{live_server.url}/manage/{path}")
    expect(colleague.get_by_role("heading", name="Join Demo Polytechnic")).to_be_visible()
    colleague.get_by_label("Your name").fill("Nia Newcomer")
    colleague.get_by_label("Choose a password").fill("a-long-good-passphrase")
    colleague.get_by_role("button", name="Create account and join").click()
    expect(colleague.get_by_text("Welcome to Demo Polytechnic.")).to_be_visible()
    expect(colleague.get_by_text("Editor", exact=True)).to_be_visible()
    assert Membership.objects.get(user__email="new.colleague@demo-poly.example").role == Role.EDITOR


def test_an_owner_changes_a_role_with_the_select_alone(
    page: Page, live_server: LiveServer, demo: None
) -> None:
    sign_in(page, live_server, OWNER)
    page.goto(f"{live_server.url}/manage/demo-poly/members/")
    page.get_by_label("Role of awarder@demo.insignia.test").select_option(Role.VIEWER)
    expect(page.get_by_text("awarder@demo.insignia.test is now Viewer.")).to_be_visible()
    assert Membership.objects.get(user__email=AWARDER[0]).role == Role.VIEWER


def test_the_language_switch_changes_every_page_and_sticks(
    page: Page, live_server: LiveServer, demo: None
) -> None:
    sign_in(page, live_server, OWNER)
    page.get_by_role("button", name="简体中文").click()
    expect(page.get_by_role("heading", name="概览")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.get_by_role("link", name="成员").click()
    expect(page.get_by_role("heading", name="邀请同事")).to_be_visible()
    page.goto(f"{live_server.url}/verify")
    expect(page.get_by_role("heading", name="验证徽章")).to_be_visible()
    screenshot(page, "verify-zh")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Verify a badge")).to_be_visible()


def test_a_chinese_browser_gets_chinese_pages_without_choosing(
    browser: Browser, live_server: LiveServer, demo: None
) -> None:
    page = new_context(browser, locale="zh-CN").new_page()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="值得信赖的微证书")).to_be_visible()
    screenshot(page, "home-zh")


def test_an_awarder_cannot_reach_owner_only_pages(
    page: Page, live_server: LiveServer, demo: None
) -> None:
    sign_in(page, live_server, AWARDER)
    nav = page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="Issuers")).to_be_visible()
    expect(nav.get_by_role("link", name="Members")).to_have_count(0)
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    for path in ("members/", "settings/", "issuers/new/", "audit/"):
        response = page.goto(f"{live_server.url}/manage/demo-poly/{path}")
        assert response is not None
        assert response.status == 403, path
        expect(page.get_by_role("heading", name="You cannot open this page")).to_be_visible()
    screenshot(page, "awarder-forbidden")


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(
    page: Page, live_server: LiveServer, demo: None
) -> None:
    page.goto(f"{live_server.url}/manage/demo-poly/members/")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    page.get_by_label("E-mail address").fill(OWNER[0])
    page.get_by_label("Password").fill(OWNER[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
