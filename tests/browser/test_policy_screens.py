"""Safe policy changes and the truthful version history in a real browser, in English and
Chinese at 1280 and 390 px, with screenshots for people to look at (issue 20 items 3 and 4,
D3, D4, D23, D24). Nothing on these pages may be wider than the window."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from achievements import services as achievement_services
from badges import selectors as badge_selectors
from badges.models import Achievement
from frameworks.catalogue import policies
from frameworks.catalogue.selectors import placement_of
from frameworks.catalogue.services import Credit, choose_policies, save_placement
from frameworks.models import CompetencyItem, CreditSystem, MicroCredentialPolicy, PolicyChoice
from tests.browser.conftest import new_context, screenshot
from tests.frameworks.helpers import import_esco

pytestmark = pytest.mark.django_db(transaction=True)

OWNER = "owner@demo.insignia.test"
VIEWS = (
    ("en-GB", "en", 1280),
    ("en-GB", "en", 390),
    ("zh-CN", "zh-hans", 1280),
    ("zh-CN", "zh-hans", 390),
)


@pytest.fixture
def demo(transactional_db: None, live_server: LiveServer) -> Iterator[None]:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - discarded
        yield


def _pages(browser: Browser, live_server: LiveServer) -> Iterator[tuple[Page, str, int]]:
    signed_in = Client()
    signed_in.force_login(User.objects.get(email=OWNER))
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    for locale, language, width in VIEWS:
        context = new_context(browser, locale)
        context.add_cookies(
            [
                {"name": "django_language", "value": language, "url": live_server.url},
                {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url},
            ]
        )
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": 900})
        yield page, language, width
        context.close()


def _fits(page: Page, width: int) -> None:
    wide = page.evaluate(
        """w => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w + 1)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' '
          + Math.round(e.getBoundingClientRect().right))""",
        width,
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width, (page.url, wide)


def _second_version(owner: User) -> Achievement:
    """D3: a new version of the NZQCF data-analysis micro-credential with 10 more credits'
    worth of content and the ESCO skill "Python"."""
    achievement = Achievement.objects.get(slug="nzqcf-data-visualisation")
    institution = achievement.issuer.institution
    python = next(
        (
            i
            for i in CompetencyItem.objects.filter(framework__owner=institution)
            if "Python" in i.label
        ),
        None,
    ) or next(i for i in import_esco(owner, institution) if "Python" in i.label)
    draft = achievement_services.save_draft(actor=owner, achievement=achievement)
    placed = placement_of(draft)
    assert placed is not None
    save_placement(
        actor=owner,
        version=draft,
        levels=[p.level for p in placed.levels.all()],
        credits=[Credit(CreditSystem.objects.get(code="nzqcf-credit"), Decimal(20))],
        competencies=[*(a.item for a in placed.competencies.all()), python],
        notional_hours=Decimal(200),
        outcomes_en=placed.outcomes_en,
        outcomes_zh=placed.outcomes_zh,
        assessment_type=placed.assessment_type,
        participation=placed.participation,
        quality_assurance=placed.quality_assurance,
        prerequisites=placed.prerequisites,
        stackability=placed.stackability,
    )
    achievement_services.publish_version(actor=owner, version=draft, change_note="")
    return achievement


def test_policy_confirmation_award_notice_placement_form_and_history_fit_in_en_and_zh(
    browser: Browser, live_server: LiveServer, demo: None
) -> None:
    owner = User.objects.get(email=OWNER)
    slug = "demo-poly"
    for page, language, width in _pages(browser, live_server):
        page.goto(f"{live_server.url}/manage/{slug}/frameworks/")
        page.locator('input[name="apply_nzqcf-micro"]').check()
        page.locator('input[name="apply_nzqcf-micro"]').locator("xpath=ancestor::form").locator(
            'button[type="submit"]'
        ).click()
        expect(page.locator(".impact-summary")).to_be_visible()
        if language == "en":
            expect(page.locator(".impact-summary")).to_contain_text("This will block")
        _fits(page, width)
        screenshot(page, f"h3-frameworks-confirm-{language}-{width}")
    assert not PolicyChoice.objects.filter(policy__code="nzqcf-micro").exists()  # not confirmed

    institution = Achievement.objects.get(slug="eqf-digital-marketing").issuer.institution
    choose_policies(
        actor=owner,
        institution=institution,
        chosen=[MicroCredentialPolicy.objects.get(code="nzqcf-micro")],
    )
    eqf = Achievement.objects.get(slug="eqf-digital-marketing")
    latest = badge_selectors.latest_published(eqf)
    assert latest is not None and policies.unmet_for(latest)
    history = _second_version(owner)
    draft_of = Achievement.objects.get(slug="nzqcf-data-analysis")
    achievement_services.save_draft(actor=owner, achievement=draft_of)

    for page, language, width in _pages(browser, live_server):
        page.goto(f"{live_server.url}/manage/{slug}/achievements/{eqf.pk}/award/")
        expect(page.locator(".policy-block")).to_be_visible()
        expect(page.locator(".actions button[type=submit]")).to_be_disabled()
        _fits(page, width)
        screenshot(page, f"h3-award-unmet-{language}-{width}")

        page.goto(f"{live_server.url}/manage/{slug}/achievements/{draft_of.pk}/placement/")
        expect(page.locator("fieldset.placement-group").first).to_be_visible()
        assert "---------" not in page.content()
        _fits(page, width)
        screenshot(page, f"h3-placement-form-{language}-{width}")

        page.goto(f"{live_server.url}/achievements/{history.pk}")
        expect(page.locator("dl.changes").first).to_be_visible()
        text = page.locator("dl.changes").first.inner_text()
        assert "20" in text and "Python" in text
        _fits(page, width)
        screenshot(page, f"h3-version-history-{language}-{width}")

        page.goto(f"{live_server.url}/manage/{slug}/achievements/{history.pk}/")
        expect(page.locator(".version-state-current")).to_be_visible()
        _fits(page, width)
        screenshot(page, f"h3-achievement-console-{language}-{width}")
