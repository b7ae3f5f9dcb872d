"""The console's analytics page and dashboard: right figures for the right people, charts
with their tables and CSV, a fixed number of queries however many awards; the counting
redirect of the LinkedIn buttons; the learner's "who viewed" counts the verify page (issue
20 item 2, D12, D26)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics import services
from analytics.models import ShareClick
from badges.models import Award
from badges.services import claim_award
from earners import chart, selectors
from earners.models import Channel, ViewEvent
from issuers.models import Role
from tests.badges.helpers import award, make_published
from tests.base import Cast, add_member, make_issuer, make_user

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(minutes=5)


def fold() -> None:
    services.fold(now=timezone.now() + LATER)


def figure(html: str, metric: str) -> str:
    match = re.search(rf'data-metric="{metric}">(\d+)', html)
    assert match, metric
    return match.group(1)


def awards_of_two_issuers(cast: Cast) -> tuple[list[Award], list[Award]]:
    second = make_issuer(cast.institution, "poly-arts", cast.owner)
    mine = make_published(cast.editor, cast.issuer, slug="data-literacy")
    theirs = make_published(cast.owner, second, slug="drawing")
    first = [award(cast.awarder, mine, email=f"e{i}@example.com") for i in range(3)]
    other = [award(cast.owner, theirs, email=f"a{i}@example.com") for i in range(2)]
    claim_award(award=first[0])
    ViewEvent.objects.create(award=other[0], day=timezone.localdate(), channel=Channel.LINKEDIN)
    return first, other


def test_the_analytics_page_shows_the_figures_with_a_chart_and_its_table(
    client: Client, cast: Cast
) -> None:
    awards_of_two_issuers(cast)
    fold()
    client.force_login(cast.owner)

    html = client.get(reverse("manage:analytics", args=[cast.institution.slug])).content.decode()

    assert figure(html, "issued") == "5"
    assert figure(html, "claimed") == "1"
    assert "(20% claim rate)" in html
    assert figure(html, "viewed") == "1"
    assert '<svg class="chart analytics-chart"' in html and 'role="img"' in html
    assert '<table class="table" data-chart="awards"' in html
    assert "Top micro-credentials" in html
    assert "@example.com" not in html  # totals only, never who


def test_staff_of_one_issuer_see_only_that_issuers_figures(client: Client, cast: Cast) -> None:
    awards_of_two_issuers(cast)
    fold()
    clerk = make_user("clerk@poly.example", "Cleo Clerk")
    add_member(clerk, cast.institution, Role.AWARDER, issuer=cast.issuer)
    client.force_login(clerk)

    page = client.get(reverse("manage:analytics", args=[cast.institution.slug])).content.decode()
    dashboard = client.get(reverse("manage:dashboard", args=[cast.institution.slug])).content
    other = Award.objects.exclude(issuer=cast.issuer).first()
    assert other is not None
    sneaky = client.get(
        reverse("manage:analytics", args=[cast.institution.slug]),
        {"issuer": other.issuer_id},
    ).content.decode()

    assert figure(page, "issued") == "3"
    assert figure(page, "viewed") == "0"
    assert figure(dashboard.decode(), "issued") == "3"
    assert figure(sneaky, "issued") == "3"  # a sibling issuer is not a choice
    assert "Drawing" not in page


def test_an_outsider_gets_no_analytics(client: Client, cast: Cast) -> None:
    client.force_login(cast.outsider)
    response = client.get(reverse("manage:analytics", args=[cast.institution.slug]))
    assert response.status_code == 404


def test_each_chart_downloads_as_csv_with_formulas_neutralised(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer, slug="formula", name_en="=HYPERLINK(1)")
    award(cast.awarder, version, email="x@example.com")
    fold()
    client.force_login(cast.owner)
    url = reverse("manage:analytics", args=[cast.institution.slug])

    response = client.get(url, {"period": "month", "csv": "top"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    awards_csv = list(csv.reader(io.StringIO(client.get(url, {"csv": "awards"}).content.decode())))

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert rows[0] == ["Name", "Issued", "Share"]
    assert rows[1][0] == "'=HYPERLINK(1)" and rows[1][1] == "1"
    assert awards_csv[0] == ["Period", "Issued", "Claimed", "Revoked", "Expired"]
    assert awards_csv[-1][0] == f"{timezone.localdate():%Y-%m-%d}"
    assert awards_csv[-1][1] == "1"
    assert client.get(url, {"csv": "nope"}).status_code == 404


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_pages_read_the_same_number_of_queries_for_few_or_many_awards(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.owner)
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="first@example.com")
    fold()
    pages = [
        reverse("manage:dashboard", args=[cast.institution.slug]),
        reverse("manage:analytics", args=[cast.institution.slug]),
        reverse("manage:analytics", args=[cast.institution.slug]) + "?period=week",
    ]
    for url in pages:
        _queries(client, url)
    before = [_queries(client, url) for url in pages]
    for i in range(8):
        claim_award(award=award(cast.awarder, version, email=f"more{i}@example.com"))
    services.fold(now=timezone.now() + 2 * LATER)
    after = [_queries(client, url) for url in pages]

    assert before == after == [7, 10, 10]


def test_the_linkedin_buttons_count_a_share_and_go_on_to_linkedin(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version, email="x@example.com")

    add = client.get(reverse("share_linkedin", args=[issued.pk, "add"]))
    post = client.get(reverse("share_linkedin", args=[issued.pk, "post"]))

    assert add.status_code == post.status_code == 302
    assert add["Location"].startswith("https://www.linkedin.com/profile/add?")
    assert post["Location"].startswith("https://www.linkedin.com/sharing/share-offsite/?")
    assert ShareClick.objects.filter(award=issued).count() == 2
    assert client.get(reverse("share_linkedin", args=[issued.pk, "evil"])).status_code == 404
    fold()
    client.force_login(cast.owner)
    html = client.get(reverse("manage:analytics", args=[cast.institution.slug])).content.decode()
    assert figure(html, "shared") == "2"


def test_the_learner_sees_verifications_on_the_verify_page(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version, email="x@example.com")
    client.get("/verify", {"url": issued.credential["id"]})
    client.post("/verify", {"text": issued.credential_json})

    stats = selectors.award_stats(issued)

    assert stats.total_verifications == 2
    assert stats.verifications_by_day[-1] == 2


def test_an_empty_who_viewed_chart_says_so_instead_of_a_lone_axis_label(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version, email="x@example.com")

    empty = str(chart.bars_svg(selectors.award_stats(issued)))
    ViewEvent.objects.create(award=issued, day=timezone.localdate(), channel=Channel.QR)
    one = str(chart.bars_svg(selectors.award_stats(issued)))

    assert "Nothing viewed or verified in these 30 days." in empty
    assert ">1</text>" not in empty
    texts = re.findall(r">(\d+)</text>", one)
    assert texts == ["1", "2", "0"]  # ticks: half, top, zero
