"""A registrar opens the analytics of the demo institution in a real browser: the charts and
the tables beside them show the same numbers as a direct count of the awards (issue 20,
item 2). Screenshots of the dashboard and the analytics page at 1280 and 390 px, in English
and Chinese."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from analytics import services
from badges.models import Award
from tests.browser.conftest import new_context, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

OWNER = "owner@demo.insignia.test"
START = dt.date(2020, 1, 1)


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - discarded output
    services.fold(now=timezone.now() + dt.timedelta(minutes=5))


def test_the_analytics_page_shows_charts_and_tables_with_the_counted_numbers(
    browser: Browser, live_server: LiveServer, demo: None
) -> None:
    awards = Award.objects.filter(issuer__institution__slug="demo-poly")
    issued = awards.filter(awarded_at__date__gte=START).count()
    claimed = awards.filter(claimed_at__date__gte=START).count()
    assert issued > 0
    signed_in = Client()
    signed_in.force_login(User.objects.get(email=OWNER))
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME].value

    for locale, language, width in (
        ("en-GB", "en", 1280),
        ("en-GB", "en", 390),
        ("zh-CN", "zh-hans", 1280),
        ("zh-CN", "zh-hans", 390),
    ):
        context = new_context(browser, locale)
        context.add_cookies(
            [
                {"name": "django_language", "value": language, "url": live_server.url},
                {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url},
            ]
        )
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/manage/demo-poly/")
        expect(page.locator("dd[data-metric=issued]")).to_have_text(str(awards.count()))
        expect(page.locator("#chart-awards svg[role=img]")).to_be_visible()
        screenshot(page, f"h2-dashboard-{language}-{width}")

        page.goto(
            f"{live_server.url}/manage/demo-poly/analytics/?period=month&start={START:%Y-%m-%d}"
        )
        chart = page.locator("#chart-awards svg[role=img]")
        expect(chart).to_be_visible()
        expect(chart.locator("polyline").first).to_be_attached()
        table = page.locator("table[data-chart=awards]")
        expect(table).to_be_visible()
        columns = table.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.children].slice(1, 3).map(c => Number(c.textContent)))"
        )
        assert sum(row[0] for row in columns) == issued
        assert sum(row[1] for row in columns) == claimed
        expect(page.locator("dd[data-metric=issued]")).to_have_text(str(issued))
        overflow = page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
        assert not overflow
        screenshot(page, f"h2-analytics-{language}-{width}")
        context.close()
