"""Done-when of issue #7 in a real browser: an awarder takes a demo learner through the
three-badge pathway, whose credential is then awarded by itself; staff at a second
institution recognise one of the learner's badges for credit."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from badges.models import Achievement, Award
from insignia.demo.frameworks import PATHWAY_TITLE
from issuers.models import Institution
from tests.badges.helpers import make_published
from tests.base import PASSWORD, make_institution, make_issuer, make_user
from tests.browser.conftest import new_context, screenshot
from tests.browser.test_staff_console import AWARDER, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

LEARNER = "tane.learner@example.com"
PARTS = ("nzqcf-data-analysis", "eqf-digital-marketing", "nzqcf-data-visualisation")


def test_a_learner_completes_the_pathway_and_another_institution_recognises_a_badge(
    live_server: LiveServer,
    browser: Browser,
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        call_command("seed_demo", stdout=io.StringIO())
        institution = Institution.objects.get(slug="demo-poly")
        context = new_context(browser)
        page = context.new_page()
        sign_in(page, live_server, AWARDER)
        for slug in PARTS:
            achievement = Achievement.objects.get(slug=slug)
            page.goto(
                f"{live_server.url}/manage/{institution.slug}/achievements/{achievement.pk}/award/"
            )
            page.get_by_label("Learner's e-mail address").fill(LEARNER)
            page.get_by_label("Learner's name").fill("Tāne Learner")
            page.get_by_role("button", name="Award and sign").click()
            expect(page.get_by_text("Badge awarded.")).to_be_visible()

        page.goto(f"{live_server.url}/manage/{institution.slug}/pathways/?email={LEARNER}")
        expect(page.get_by_text("Completed and awarded.")).to_be_visible()
        expect(page.get_by_text("All of (3 of 3 done)")).to_be_visible()
        screenshot(page, "issue7-pathway-progress")
        page.get_by_role("link", name="Pathway credential").click()
        expect(page.get_by_role("heading", name="Data Professional Certificate")).to_be_visible()
        context.close()

        # Staff at a second institution recognise the NZQCF badge for credit.
        owner = make_user("registrar@other.example", "Rangi Registrar")
        other = make_institution("other-college", owner, "Other College")
        issuer = make_issuer(other, "other-college-data", owner)
        module = make_published(owner, issuer, "data-101", name_en="Data 101")
        evidence = Award.objects.get(
            recipient_email=LEARNER, achievement_version__achievement__slug=PARTS[0]
        )
        context = new_context(browser)
        page = context.new_page()
        sign_in(page, live_server, (owner.email, PASSWORD))
        page.goto(f"{live_server.url}/manage/{other.slug}/recognition/")
        page.get_by_label("Learner's e-mail address").fill(LEARNER)
        page.get_by_label("Local micro-credential or module").select_option(
            str(module.achievement_id)
        )
        page.get_by_role("button", name="Open case").click()
        page.get_by_label("Link to the badge").fill(evidence.credential["id"])
        page.get_by_role("button", name="Verify and add").click()
        expect(page.get_by_text("The badge was checked and added.")).to_be_visible()
        expect(page.locator('[data-verdict="valid"]')).to_be_visible()
        expect(page.get_by_text("NZQCF Level 4", exact=True)).to_be_visible()
        page.get_by_label("Decision").select_option("credit")
        page.get_by_label("Credits granted").fill("15")
        page.get_by_label("Credit system").select_option(label="NZQCF credit")
        page.get_by_label("Rationale").fill("Same outcomes at NZQCF level 4, verified.")
        page.get_by_role("button", name="Record decision").click()
        expect(page.get_by_text("The decision was recorded.")).to_be_visible()
        expect(page.get_by_role("listitem").filter(has_text="Grant credit")).to_contain_text(
            "15 NZQCF credits"
        )
        screenshot(page, "issue7-recognition-case")
        context.close()

    assert (
        Award.objects.filter(
            recipient_email=LEARNER, achievement_version__achievement__slug="data-professional"
        ).count()
        == 1
    )
    assert PATHWAY_TITLE == "Data professional pathway"
