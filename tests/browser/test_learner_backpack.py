"""A learner in a real browser: signs up and confirms the address two badges were sent to,
imports a badge from the 1EdTech fixtures (served locally), makes one badge public and keeps
the other private, shares a collection by link; an employer opens and verifies it; the
learner then sees the views counted by channel and the employer's organisation."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from playwright.sync_api import Browser, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from badges.models import Award
from tests.badges.helpers import award, make_published
from tests.base import PASSWORD, make_cast
from tests.browser.conftest import new_context, screenshot
from tests.verification.servers import FakeWeb

pytestmark = pytest.mark.django_db(transaction=True)

SIMPLE = (
    Path(__file__).resolve().parent.parent
    / "fixtures"
    / "1edtech-validator"
    / "ob30"
    / "simple.json"
)
ISSUER = "https://example.com/issuers/876543"


@pytest.fixture
def web(settings: Settings) -> Iterator[FakeWeb]:
    cache.clear()
    server = FakeWeb()
    document = json.loads(SIMPLE.read_text())
    server.json(
        ISSUER, {"id": ISSUER, "assertionMethod": [document["proof"][0]["verificationMethod"]]}
    )
    server.json("https://example.com/badges/teamwork.json", document)
    settings.INSIGNIA_FETCH_ALLOWLIST = {"example.com": server.address}
    yield server
    server.close()


def _two_awards() -> tuple[Award, Award]:
    cast = make_cast()
    data = make_published(cast.editor, cast.issuer)
    python = make_published(cast.editor, cast.issuer, slug="python", name_en="Python Basics")
    first = award(cast.awarder, data, email="lee@example.com", name="Lee Learner")
    second = award(cast.awarder, python, email="lee@example.com", name="Lee Learner")
    return first, second


def test_a_learner_keeps_shares_and_watches_their_badges(
    browser: Browser, live_server: LiveServer, web: FakeWeb
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        public_award, private_award = _two_awards()
        learner = new_context(browser)
        page = learner.new_page()

        # Sign up and confirm the address both badges were sent to.
        page.goto(f"{live_server.url}/backpack/signup/")
        page.get_by_label("Your name").fill("Lee Learner")
        page.get_by_label("E-mail address").fill("lee@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text("We sent a message to lee@example.com")).to_be_visible()
        link = re.search(r"https?://\S+/backpack/emails/verify/\S+/", str(mail.outbox[-1].body))
        assert link is not None
        page.goto(link.group(0))
        expect(page.locator(".bk-grid h2")).to_have_count(2)
        expect(page.get_by_role("link", name="Data Literacy")).to_be_visible()
        expect(page.get_by_role("link", name="Python Basics")).to_be_visible()

        # Import a badge from another issuer (1EdTech example, served locally).
        page.get_by_role("link", name="Import a badge").click()
        page.get_by_label("Badge link").fill("https://example.com/badges/teamwork.json")
        page.get_by_role("button", name="Import and verify").click()
        expect(page.locator('[data-import-verdict="valid"]')).to_contain_text("Teamwork Badge")

        # One badge public with my name; the other stays private (the default).
        page.get_by_role("link", name="My badges").first.click()
        page.get_by_role("link", name="Data Literacy").click()
        page.get_by_label("Public: listed on my profile, found by search engines").check()
        page.get_by_label("Show my name on the badge page").check()
        page.get_by_role("button", name="Save privacy choices").click()
        expect(page.get_by_text("Your privacy choices are saved.")).to_be_visible()
        screenshot(page, "learner-badge-privacy")

        # Share a collection of both badges by link.
        page.get_by_role("link", name="Collections").first.click()
        page.get_by_label("Name", exact=True).fill("Job application")
        page.get_by_label("Data Literacy").check()
        page.get_by_label("Python Basics").check()
        page.get_by_role("button", name="Create collection").click()
        share_url = page.locator("#share-url").inner_text().strip()
        collection_page = page.url

        # An employer opens the link, sees both badges verified live, and says who they are.
        employer = new_context(browser)
        other = employer.new_page()
        other.goto(share_url)
        expect(other.locator('[data-verdict="valid"]')).to_have_count(2)
        screenshot(other, "learner-shared-collection")
        other.get_by_label("Your organisation (optional, shown to the badge holder)").fill(
            "Acme Hiring Ltd"
        )
        other.get_by_role("button", name="Record my verification").click()
        expect(
            other.get_by_text("The holder will see that the badges were verified.")
        ).to_be_visible()

        # Anyone can see the public badge with the name; the private one has no name, noindex.
        other.goto(f"{live_server.url}/credentials/{public_award.pk}")
        expect(other.get_by_text("Awarded to Lee Learner")).to_be_visible()
        other.goto(f"{live_server.url}/credentials/{private_award.pk}?src=qr")
        expect(other.get_by_text("Lee Learner")).to_have_count(0)
        assert other.locator('meta[name="robots"][content="noindex"]').count() == 1
        employer.close()

        # The learner sees the views by channel and the organisation that verified.
        page.goto(collection_page)
        expect(page.locator('tr[data-channel="direct"] td').nth(1)).to_have_text("1")
        expect(page.get_by_text("Acme Hiring Ltd (1)")).to_be_visible()
        screenshot(page, "learner-collection-views")
        page.goto(f"{live_server.url}/backpack/badges/{private_award.pk}/")
        expect(page.locator('tr[data-channel="qr"] td').nth(1)).to_have_text("1")
        expect(page.get_by_text("Acme Hiring Ltd (1)")).to_be_visible()
        page.goto(f"{live_server.url}/backpack/")
        screenshot(page, "learner-backpack")
        learner.close()
