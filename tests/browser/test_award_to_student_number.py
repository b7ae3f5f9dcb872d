"""Issue 15 §4 in a real browser: an awarder awards a badge to a student number from the
console form, without an e-mail; the awards list shows the number, and an employer's check
of that number on /verify says it matched."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from badges.models import Achievement, Award
from tests.browser.conftest import new_context, screenshot
from tests.browser.test_staff_console import AWARDER, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_awarder_awards_to_a_student_number_and_an_employer_checks_it(
    live_server: LiveServer, browser: Browser
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        call_command("seed_demo", stdout=io.StringIO())
        achievement = Achievement.objects.get(slug="data-literacy")
        context = new_context(browser)
        page = context.new_page()
        sign_in(page, live_server, AWARDER)
        page.goto(f"{live_server.url}/manage/demo-poly/achievements/{achievement.pk}/award/")

        page.get_by_label("Kind of identifier").select_option("studentId")
        page.get_by_label("Student number or sign-in name").fill("20265555")
        page.get_by_label("Learner's name").fill("Aroha Student")
        screenshot(page, "award-to-student-number-form")
        page.get_by_role("button", name="Award and sign").click()

        expect(
            page.get_by_text(
                "Badge awarded to Student number: 20265555. No e-mail is sent: the learner "
                "finds the badge by signing in through your institution."
            )
        ).to_be_visible()
        row = page.get_by_role("row", name="Aroha Student")
        expect(row.get_by_text("Student number: 20265555")).to_be_visible()
        expect(row.get_by_text("No e-mail address")).to_be_visible()
        expect(row.get_by_role("button", name="Resend e-mail")).to_have_count(0)
        screenshot(page, "award-to-student-number-list")
        awarded = Award.objects.get(recipient_identifier="20265555")
        assert awarded.recipient_email == ""
        context.close()

        context = new_context(browser)
        page = context.new_page()
        page.goto(f"{live_server.url}/verify")
        page.locator("#verify-url").fill(awarded.credential["id"])
        page.get_by_label("Recipient's e-mail address or student number (optional)").fill(
            "20265555"
        )
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_text("Issued to the student number you entered.")).to_be_visible()
        expect(page.locator('[data-verdict="valid"]')).to_be_visible()
        screenshot(page, "verify-student-number")
        context.close()
