"""An employer verifies badges on /verify in a real browser, in English and Chinese:
a demo badge link, the baked PNG, a tampered copy, the wrong e-mail, a revoked badge."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from awarding.revocation.services import revoke_award
from badges.models import Award
from openbadges import baking
from tests.badges.helpers import award, make_published
from tests.base import make_cast, png_bytes
from tests.browser.conftest import new_context, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "en": {
        "valid": "Valid: this badge is genuine",
        "tampered": "the content was changed after the issuer signed it",
        "not_recipient": "Not this recipient",
        "revoked": "Revoked: the issuer has withdrawn this badge.",
        "button": "Verify",
    },
    "zh": {
        "valid": "有效：这枚徽章真实可信",
        "tampered": "内容在颁发单位签名后被改动过",
        "not_recipient": "不是此获得者",
        "revoked": "已撤销：颁发单位已收回这枚徽章。",
        "button": "验证",
    },
}


@pytest.fixture
def awards(transactional_db: None) -> tuple[Award, Award]:
    cast = make_cast()
    version = make_published(cast.owner, cast.issuer)
    good = award(cast.awarder, version)
    gone = award(cast.awarder, version, email="other@example.com")
    revoke_award(actor=cast.owner, award=gone, reason="Issued in error")
    return good, gone


def _verify(page: Page, server: LiveServer, language: str, **fields: str | bytes) -> None:
    page.goto(f"{server.url}/verify")
    if "url" in fields:
        page.locator("#verify-url").fill(str(fields["url"]))
    if "text" in fields:
        page.locator("#verify-text").fill(str(fields["text"]))
    if "email" in fields:
        page.locator("#verify-email").fill(str(fields["email"]))
    if "png" in fields:
        page.locator("#verify-file").set_input_files(
            {"name": "badge.png", "mimeType": "image/png", "buffer": bytes(fields["png"])}  # type: ignore[arg-type]
        )
    page.get_by_role("button", name=TEXT[language]["button"], exact=True).click()


@pytest.mark.parametrize(("language", "locale"), [("en", "en-GB"), ("zh", "zh-CN")])
def test_an_employer_checks_badges_and_sees_plain_verdicts(
    browser: Browser,
    live_server: LiveServer,
    awards: tuple[Award, Award],
    language: str,
    locale: str,
) -> None:
    good, gone = awards
    text = TEXT[language]
    context = new_context(browser, locale=locale)
    page = context.new_page()

    _verify(page, live_server, language, url=good.credential["id"])
    expect(page.locator(".verdict-headline")).to_contain_text(text["valid"])
    screenshot(page, f"verify-valid-{language}")

    _verify(page, live_server, language, png=baking.bake_png(png_bytes(), good.credential_json))
    expect(page.locator(".verdict-headline")).to_contain_text(text["valid"])

    tampered = json.loads(good.credential_json)
    tampered["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    _verify(page, live_server, language, text=json.dumps(tampered))
    expect(page.locator(".verdict-headline")).to_contain_text(text["tampered"])
    screenshot(page, f"verify-tampered-{language}")

    _verify(page, live_server, language, url=good.credential["id"], email="boss@example.com")
    expect(page.locator(".verdict-headline")).to_contain_text(text["not_recipient"])

    _verify(page, live_server, language, url=gone.credential["id"])
    expect(page.locator(".verdict-headline")).to_contain_text(text["revoked"])
    screenshot(page, f"verify-revoked-{language}")
    context.close()


def test_the_form_works_without_javascript(
    browser: Browser, live_server: LiveServer, awards: tuple[Award, Award]
) -> None:
    good, _gone = awards
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    _verify(page, live_server, "en", url=good.credential["id"])
    expect(page.locator(".verdict-headline")).to_contain_text(TEXT["en"]["valid"])
    page.get_by_role("button", name="Save a signed receipt").click()
    expect(page.get_by_role("heading", name="Verification receipt")).to_be_visible()
    screenshot(page, "verify-receipt-en")
    context.close()
