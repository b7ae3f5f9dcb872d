"""D2 and D6 as the review tried them (both fail on 08d285b: no search, and the list 1317 px wide at
1280 px and 737 px at 390 px): a learner awarded before a 205-row cohort is found by a search
of the awards list, and the list fits its box at 1280 px and 390 px."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser
from pytest_django.live_server_helper import LiveServer

from tests.badges.helpers import award, make_published
from tests.base import PASSWORD, Cast
from tests.browser.conftest import new_context

pytestmark = pytest.mark.django_db(transaction=True)


def _cohort(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="ana@example.com", name="Ana Tester")
    for i in range(205):
        award(cast.awarder, version, email=f"c{i}@example.com", name=f"Cohort {i:03d}")


def test_d2_an_earlier_learner_is_found_by_a_search(cast: Cast, client: Client) -> None:
    _cohort(cast)
    client.force_login(cast.owner)
    page = client.get(
        reverse("manage:awards", args=[cast.institution.slug]), {"q": "Ana Tester"}
    ).content.decode()
    assert "ana@example.com" in page  # her row, not just the search box's text
    assert "Cohort 000" not in page


@pytest.mark.parametrize("width", [1280, 390])
def test_d6_the_awards_list_fits_its_box(
    cast: Cast, browser: Browser, live_server: LiveServer, width: int
) -> None:
    _cohort(cast)
    context = new_context(browser)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/manage/")
    page.get_by_label("E-mail address").fill(cast.owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}{reverse('manage:awards', args=[cast.institution.slug])}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
