"""Done-when of issue #6, in a real browser: an editor revokes a demo badge with a reason; its
badge page, the verify page and the independent Node verifier all report it revoked; an
awarder cannot revoke."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from badges.models import Award, AwardStatus
from issuers.models import Institution, Role
from tests.base import PASSWORD, add_member, make_user
from tests.browser.conftest import new_context, screenshot
from tests.browser.test_staff_console import AWARDER, sign_in
from tests.interop.test_project_credentials import run_verifier

pytestmark = pytest.mark.django_db(transaction=True)

EDITOR = ("editor@demo.insignia.test", PASSWORD)
REASON = "Awarded to the wrong learner"


def test_an_editor_revokes_a_demo_badge_and_everyone_sees_it(
    live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - discarded
        institution = Institution.objects.order_by("pk").first()
        assert institution is not None
        add_member(make_user(EDITOR[0], "Edith Editor"), institution, Role.EDITOR)
        badge = Award.objects.filter(issuer__institution=institution).order_by("created_at")[0]
        detail = f"{live_server.url}/manage/{institution.slug}/awards/{badge.pk}/"

        # An awarder sees the badge but no way to revoke it.
        context = new_context(browser)
        page = context.new_page()
        sign_in(page, live_server, AWARDER)
        page.goto(detail)
        expect(
            page.get_by_text("Only owners and editors can revoke or suspend badges.")
        ).to_be_visible()
        expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
        context.close()

        # The editor revokes it from the awards list, with a reason.
        context = new_context(browser)
        page = context.new_page()
        sign_in(page, live_server, EDITOR)
        page.goto(f"{live_server.url}/manage/{institution.slug}/awards/")
        page.locator(f'a[href$="/awards/{badge.pk}/"]').click()
        page.get_by_label("Reason").fill(REASON)
        page.get_by_role("button", name="Revoke…", exact=True).click()
        # Revoking is final: a second page names the learner and the badge first.
        expect(page.get_by_role("heading", name="Revoke this badge?")).to_be_visible()
        page.get_by_role("button", name="Revoke this badge").click()
        expect(page.get_by_text("The badge is revoked.")).to_be_visible()
        expect(page.locator("[data-state=revoked]")).to_be_visible()
        screenshot(page, "revocation-console")

        # The public badge page says so at once; the reason is not published for a badge its
        # learner never accepted (issue 20, D13).
        page.goto(f"{live_server.url}/credentials/{badge.pk}")
        status = page.get_by_role("status").first
        expect(status).to_contain_text("Revoked")
        expect(status).not_to_contain_text(REASON)
        screenshot(page, "revocation-badge-page")

        # The verify page (this platform's verifier) reports it revoked.
        page.goto(f"{live_server.url}/verify?url={live_server.url}/credentials/{badge.pk}")
        expect(page.get_by_text("Revoked", exact=False).first).to_be_visible()
        expect(page.get_by_text(REASON, exact=False).first).to_be_visible()
        screenshot(page, "revocation-verify-page")
        context.close()

        # The independent verifier reads the served status list and rejects it.
        badge.refresh_from_db()
        path = tmp_path / "revoked.json"
        path.write_text(badge.credential_json, encoding="utf-8")
        returncode, lines = run_verifier(live_server.url, path)

    assert badge.status == AwardStatus.REVOKED
    # The credential carries its suspension entry, set for good by a revocation, so a verifier
    # reading only the credential refuses it as "suspended" (docs/status-lists.md).
    assert (lines[0]["verified"], lines[0]["status"]) == (False, "suspended"), json.dumps(lines)
    assert returncode == 1
