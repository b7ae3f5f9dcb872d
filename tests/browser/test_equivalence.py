"""In a real browser: staff of a receiving institution publish an equivalence statement for
another provider's badge; a recognition case whose verified badge matches it shows the
statement and a pre-filled decision, which the assessor records."""

from __future__ import annotations

import pytest
from django.test import override_settings
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from frameworks.catalogue.services import load_reference_data
from frameworks.models import RecognitionDecision
from tests.badges.helpers import award, make_published
from tests.base import PASSWORD, make_institution, make_issuer, make_user
from tests.browser.conftest import new_context, screenshot
from tests.browser.test_staff_console import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

LEARNER = "mere.learner@example.com"


def test_staff_publish_a_statement_and_a_case_suggests_it(
    live_server: LiveServer, browser: Browser
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        load_reference_data()
        provider_owner = make_user("owner@provider.example", "Pita Provider")
        provider = make_institution("short-courses", provider_owner, "Short Courses Ltd")
        provider_issuer = make_issuer(provider, "short-courses-data", provider_owner)
        badge = award(
            provider_owner,
            make_published(provider_owner, provider_issuer, "spreadsheets", name_en="Spreadsheets"),
            email=LEARNER,
            name="Mere Learner",
        )
        achievement_id = badge.credential["credentialSubject"]["achievement"]["id"]
        registrar = make_user("registrar@college.example", "Rangi Registrar")
        college = make_institution("city-college", registrar, "City College")
        college_issuer = make_issuer(college, "city-college-data", registrar)
        module = make_published(registrar, college_issuer, "data-101", name_en="Data 101")

        context = new_context(browser)
        page = context.new_page()
        sign_in(page, live_server, (registrar.email, PASSWORD))
        page.goto(f"{live_server.url}/manage/{college.slug}/recognition/")
        page.get_by_role("link", name="Equivalence statements for external training").click()
        page.get_by_role("link", name="New statement").click()
        page.get_by_label("Provider or organisation").fill("Short Courses Ltd")
        page.get_by_label("Title of the external credential or training").fill("Spreadsheets")
        page.get_by_label("Achievement or BadgeClass id in its badges").fill(achievement_id)
        page.get_by_label("Link to a description").fill("https://short-courses.example/sheets")
        page.get_by_label("Credits", exact=True).fill("15")
        page.get_by_label("Credit system").select_option(label="NZQCF credit")
        page.get_by_label("Level", exact=True).select_option(label="NZQCF Level 4")
        page.get_by_label("Rationale").fill("Outcomes match our level-4 data module.")
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_text("The draft statement was saved.")).to_be_visible()
        page.get_by_role("button", name="Publish statement").click()
        expect(page.get_by_text("The statement is published.")).to_be_visible()
        expect(page.locator('[data-status="published"]')).to_be_visible()
        screenshot(page, "issue7-equivalence-statement")

        page.goto(f"{live_server.url}/equivalences")
        expect(page.get_by_role("link", name="Spreadsheets")).to_be_visible()
        expect(page.get_by_role("cell", name="15 NZQCF credits")).to_be_visible()
        screenshot(page, "issue7-equivalence-register")

        page.goto(f"{live_server.url}/manage/{college.slug}/recognition/")
        page.get_by_label("Learner's e-mail address").fill(LEARNER)
        page.get_by_label("Local micro-credential or module").select_option(
            str(module.achievement_id)
        )
        page.get_by_role("button", name="Open case").click()
        page.get_by_label("Link to the badge").fill(badge.credential["id"])
        page.get_by_role("button", name="Verify and add").click()
        expect(page.get_by_text("The badge was checked and added.")).to_be_visible()
        expect(page.get_by_text("matches your published statement on Spreadsheets")).to_be_visible()
        expect(page.get_by_label("Decision")).to_have_value("credit")
        expect(page.get_by_label("Credits granted")).to_have_value("15")
        expect(page.get_by_label("Rationale")).to_contain_text("Outcomes match")
        screenshot(page, "issue7-equivalence-suggestion")
        page.get_by_role("button", name="Record decision").click()
        expect(page.get_by_text("The decision was recorded.")).to_be_visible()
        expect(page.get_by_role("listitem").filter(has_text="Grant credit")).to_contain_text(
            "per equivalence statement “Spreadsheets”"
        )

        page.get_by_role("button", name="简体中文").click()
        expect(page.get_by_role("heading", name="等同性声明")).to_be_visible()
        screenshot(page, "issue7-equivalence-suggestion-zh")
        context.close()

    decision = RecognitionDecision.objects.get()
    assert decision.equivalence is not None
    assert decision.equivalence.title == "Spreadsheets"
