"""A learner's badge page in a real browser, in English and Chinese: Open Graph tags for
crawlers, every LinkedIn "Add to profile" parameter, and the PNG and SVG downloads, whose
baked credentials the independent Node verifier (Digital Bazaar) accepts."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from badges.models import Award
from openbadges import baking
from tests.browser.conftest import new_context, screenshot
from tests.interop.test_project_credentials import run_verifier

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "en-GB": {
        "verify": "Verify this badge",
        "linkedin": "Add to LinkedIn profile",
        "png": "Badge image (PNG)",
        "svg": "Badge image (SVG)",
        "valid": "Valid",
        "share": "Share",
    },
    "zh-CN": {
        "verify": "验证此徽章",
        "linkedin": "添加到领英个人资料",
        "png": "徽章图像（PNG）",
        "svg": "徽章图像（SVG）",
        "valid": "有效",
        "share": "分享",
    },
}


def og(page: Page, key: str) -> str:
    value = page.locator(f'meta[property="{key}"], meta[name="{key}"]').get_attribute("content")
    assert value, key
    return value


def download(page: Page, name: str, target: Path) -> bytes:
    with page.expect_download() as event:
        page.get_by_role("link", name=name).click()
    event.value.save_as(target)
    return target.read_bytes()


def open_badge(context: BrowserContext, server: LiveServer, award: Award) -> Page:
    page = context.new_page()
    page.goto(f"{server.url}/credentials/{award.pk}")
    return page


def test_a_demo_badge_page_shares_well_and_its_downloads_verify_independently(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        awards = {
            "cnc": Award.objects.get(recipient_email="mere.learner@demo.insignia.test"),
            "data": Award.objects.get(recipient_email="li.wei@demo.insignia.test"),
        }
        extracted: list[Path] = []
        for locale, text in TEXT.items():
            for key, award in awards.items():
                context = new_context(browser, locale)
                page = open_badge(context, live_server, award)
                name = json.loads(award.credential_json)["credentialSubject"]["achievement"]["name"]
                expect(page.get_by_role("heading", level=1)).to_have_text(name)
                expect(page.get_by_role("status")).to_contain_text(text["valid"])
                expect(page.get_by_role("heading", name=text["share"])).to_be_visible()
                verify = page.get_by_role("link", name=text["verify"]).get_attribute("href")
                assert verify is not None
                assert parse_qs(urlsplit(verify).query)["url"] == [
                    f"{live_server.url}/credentials/{award.pk}"
                ]

                # What LinkedInBot and other crawlers read, without JavaScript.
                page_url = f"{live_server.url}/credentials/{award.pk}"
                assert og(page, "og:title") == name
                assert og(page, "og:url") == page_url
                assert og(page, "og:image") == f"{page_url}/preview.png"
                assert (og(page, "og:image:width"), og(page, "og:image:height")) == (
                    "1200",
                    "627",
                )
                assert og(page, "twitter:card") == "summary_large_image"
                card = page.request.get(og(page, "og:image"))
                assert card.headers["content-type"] == "image/png"

                href = page.get_by_role("link", name=text["linkedin"]).get_attribute("href")
                assert href is not None
                # Through the counting redirect of the LinkedIn buttons (analytics).
                href = page.request.get(live_server.url + href, max_redirects=0).headers["location"]
                linkedin = urlsplit(href)
                params = {k: v[0] for k, v in parse_qs(linkedin.query).items()}
                assert f"{linkedin.netloc}{linkedin.path}" == "www.linkedin.com/profile/add"
                assert params["startTask"] == "CERTIFICATION_NAME"
                assert params["name"] == name
                issuer_name = json.loads(award.credential_json)["issuer"]["name"]
                assert params["organizationName"] == issuer_name
                assert "organizationId" not in params  # the demo issuers have none
                assert params["issueYear"] == str(award.valid_from.year)
                assert params["issueMonth"] == str(award.valid_from.month)
                if award.valid_until is not None:
                    assert params["expirationYear"] == str(award.valid_until.year)
                    assert params["expirationMonth"] == str(award.valid_until.month)
                else:
                    assert "expirationYear" not in params
                assert params["certUrl"] == page_url
                assert params["certId"] == str(award.pk)

                for fmt in ("png", "svg"):
                    data = download(page, text[fmt], tmp_path / f"{locale}-{key}.{fmt}")
                    found = baking.extract(data)
                    assert found is not None and found.payload == award.credential_json
                    path = tmp_path / f"{locale}-{key}-{fmt}.json"
                    path.write_text(found.payload, encoding="utf-8")
                    extracted.append(path)

                screenshot(page, f"badge-page-{key}-{locale}-desktop")
                page.set_viewport_size({"width": 390, "height": 844})
                page.get_by_role("link", name=text["linkedin"]).scroll_into_view_if_needed()
                screenshot(page, f"badge-page-{key}-{locale}-phone")
                context.close()

        returncode, lines = run_verifier(live_server.url, *extracted)

    assert [line.get("error") for line in lines] == [None] * len(extracted)
    assert all(line["verified"] for line in lines)
    assert returncode == 0


def test_the_badge_page_works_by_keyboard_with_labelled_images(
    browser: Browser, live_server: LiveServer
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        award = Award.objects.get(recipient_email="mere.learner@demo.insignia.test")
        context = new_context(browser)
        page = open_badge(context, live_server, award)

        # Every image has a text alternative; exactly one h1, and no heading level skipped.
        assert page.locator("img:not([alt])").count() == 0
        levels = [
            int(tag[1])
            for tag in page.locator("h1, h2, h3").evaluate_all(
                "els => els.map(e => e.tagName.toLowerCase())"
            )
        ]
        assert levels.count(1) == 1
        assert all(b - a <= 1 for a, b in pairwise(levels))

        # Tab from the top reaches "Verify this badge" and Enter follows it.
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent.trim()") == "Verify this badge":
                break
        else:
            pytest.fail("Verify this badge is not reachable by keyboard")
        page.keyboard.press("Enter")
        page.wait_for_url("**/verify?url=*")
        context.close()
