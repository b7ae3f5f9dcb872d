"""Badges from the course, in a real browser, with a real LTI 1.3 platform (``tests/lms``, on
``lti1p3platform``): an instructor deep-links a badge with "score ≥ 80", the LMS records 79
and 85 for two learners, the sync awards exactly one badge (and, run again, nothing more),
the learner's launch shows it and one click puts it in their backpack, and the credential
verifies in Digital Bazaar's verifier."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import override_settings
from playwright.sync_api import Browser, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from badges.models import AchievementVersion, Award
from lti import configuration, sync
from lti.models import Grant, LmsAccount, Placement, Platform
from tests.badges.helpers import make_published
from tests.base import Cast, make_cast
from tests.browser.conftest import new_context, screenshot
from tests.interop.test_project_credentials import run_verifier
from tests.lms.server import Lms, start_lms
from tests.lti.platform import Registered, connected_poly

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def moodle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lms]:
    lms = start_lms(tmp_path_factory.mktemp("lms-browser") / "lms.log")
    yield lms
    lms.stop()


@pytest.fixture
def poly(
    moodle: Lms, live_server: LiveServer, settings: Settings
) -> Iterator[tuple[Cast, AchievementVersion, Registered]]:
    settings.INSIGNIA_FETCH_ALLOWLIST = {moodle.host: moodle.host}
    cache.clear()
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        yield connected_poly(moodle, live_server.url, "welding-safety")


def grade(page: Page, learner: str, label: str, score: str) -> None:
    page.get_by_label(f"Grade for {learner} in {label}").fill(score)
    page.get_by_role("button", name=f"Save grade for {learner} in {label}").click()


def test_an_instructor_links_a_score_badge_and_only_the_learner_who_passed_gets_it(
    browser: Browser,
    moodle: Lms,
    live_server: LiveServer,
    poly: tuple[Cast, AchievementVersion, Registered],
    tmp_path: Path,
) -> None:
    _cast, version, reg = poly
    tool = f"Insignia {_cast.institution.slug}"
    ina = new_context(browser).new_page()

    # In the course, Ina adds content from Insignia: the badge, earned with a score of 80%.
    ina.goto(moodle.base_url + "/")
    ina.get_by_role("button", name=f"Add content from {tool} (as Ina Instructor)").click()
    expect(ina.get_by_role("heading", name="Add a badge to your course")).to_be_visible()
    ina.get_by_label(version.name).check()
    ina.get_by_label("when their score on this activity reaches at least").check()
    ina.get_by_label("Minimum score (%)").fill("80")
    screenshot(ina, "lti-deep-link-picker")
    ina.get_by_role("button", name="Add to the course").click()
    expect(ina.locator("p.flash")).to_contain_text(version.name)  # back in the LMS
    link = [ln for ln in moodle.state()["links"] if ln["tool"] == reg.client_id][-1]
    assert link["title"] == version.name

    # The gradebook has the badge's column; Alice scores 85, Bob 79.
    grade(ina, "Alice Learner", version.name, "85")
    grade(ina, "Bob Learner", version.name, "79")
    screenshot(ina, "lti-lms-gradebook")

    # Ina opens the badge in the course and checks the grades now.
    ina.locator(f"li[data-link='{link['id']}']").get_by_role(
        "button", name="Open as Ina Instructor"
    ).click()
    expect(ina.get_by_role("heading", name=version.name)).to_be_visible()
    ina.get_by_role("button", name="Check grades now").click()
    expect(ina.locator("[data-report]")).to_contain_text("Checked: 1 awarded, 0 flagged")
    expect(ina.locator("[data-grant='alice']")).to_contain_text("Awarded")
    expect(ina.locator("[data-grant='bob']")).to_have_count(0)
    screenshot(ina, "lti-instructor-checked")

    # The periodic sync, run twice more, awards nothing more.
    placement = Placement.objects.get()
    assert sync.sync_placement(placement).awarded == 0
    assert sync.sync_placement(placement).awarded == 0
    award = Award.objects.get()
    assert (award.recipient_email, Grant.objects.get().lms_user_id) == ("alice@lms.test", "alice")

    # Alice opens the badge from her course: it is hers; one click puts it in her backpack.
    alice = new_context(browser).new_page()
    alice.goto(moodle.base_url + "/")
    alice.locator(f"li[data-link='{link['id']}']").get_by_role(
        "button", name="Open as Alice Learner"
    ).click()
    expect(alice.get_by_role("heading", name="Badges in Welding 101")).to_be_visible()
    expect(alice.get_by_text("You earned this badge")).to_be_visible()
    alice.get_by_role("button", name="Add to my backpack").click()
    expect(alice.get_by_text("The badge is in your backpack.")).to_be_visible()
    screenshot(alice, "lti-learner-claimed")
    alice.get_by_role("link", name="View it").click()
    expect(alice.get_by_role("heading", name=version.name)).to_be_visible()

    # Bob opens it too: not earned yet, and told what it takes.
    bob = new_context(browser).new_page()
    bob.goto(moodle.base_url + "/")
    bob.locator(f"li[data-link='{link['id']}']").get_by_role(
        "button", name="Open as Bob Learner"
    ).click()
    expect(bob.get_by_text("Earn it with a score of at least 80%.")).to_be_visible()
    assert Award.objects.count() == 1

    # The credential verifies in Digital Bazaar's verifier (npm, offline).
    path = tmp_path / "alice.json"
    path.write_text(json.dumps(json.loads(award.credential_json)), encoding="utf-8")
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        returncode, lines = run_verifier(live_server.url, path)
    assert lines[0].get("error") is None, lines
    assert lines[0]["verified"] is True
    assert returncode == 0


def test_an_lms_administrator_registers_insignia_by_pasting_one_link(
    browser: Browser, moodle: Lms, live_server: LiveServer, settings: Settings
) -> None:
    settings.INSIGNIA_FETCH_ALLOWLIST = {moodle.host: moodle.host}
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        make_published(cast.owner, cast.issuer, slug="welding-safety")
        _invite, token = configuration.create_invite(
            actor=cast.owner, institution=cast.institution, name="Moodle"
        )
    link = f"{live_server.url}/lti/register/{token}/"
    admin = new_context(browser).new_page()

    # The LMS's "register a tool by URL" page opens our link in a frame.
    admin.goto(moodle.registration_page_url(link))
    expect(admin.get_by_text("Tool registered: Insignia · Poly Technic")).to_be_visible(
        timeout=20_000
    )
    screenshot(admin, "lti-dynamic-registration")

    platform = Platform.objects.get(institution=cast.institution)
    assert (platform.issuer, platform.registered_via) == (moodle.issuer, "dynamic")
    assert platform.deployments.count() == 1
    tool = next(t for t in moodle.tools() if t["client_id"] == platform.client_id)

    # The same link works once.
    again = admin.context.new_page()
    again.goto(moodle.registration_page_url(link))
    expect(again.frame_locator("iframe").get_by_text("expired or was already used")).to_be_visible(
        timeout=20_000
    )
    assert Platform.objects.count() == 1

    # An instructor can now launch Insignia from that registration.
    LmsAccount.objects.create(platform=platform, subject="instructor", user=cast.awarder)
    ina = new_context(browser).new_page()
    ina.goto(moodle.base_url + "/")
    ina.get_by_role("button", name=f"Add content from {tool['name']} (as Ina Instructor)").click()
    expect(ina.get_by_role("heading", name="Add a badge to your course")).to_be_visible()
