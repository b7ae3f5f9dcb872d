"""The awards list at any volume (issue 20, D2, D6, D17): keyset pages that neither repeat nor
skip an award when many share a timestamp, search by name, e-mail and identifier, each filter
and sort, a capped count, "no awards match", and a query count that does not grow with the
number of awards."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from awarding import awards_list
from awarding.awards_list import AwardFilter
from awarding.revocation import services as revocation_services
from badges.models import AchievementVersion, Award, BulkBatch, BulkRow
from tests.badges.helpers import award, make_published
from tests.base import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(cast: Cast) -> AchievementVersion:
    return make_published(cast.editor, cast.issuer)


def _names(rows: list[Award]) -> list[str]:
    return [row.recipient_name for row in rows]


def _find(cast: Cast, **filters: object) -> list[str]:
    found = awards_list.matching(cast.owner, cast.institution, AwardFilter(**filters))  # type: ignore[arg-type]
    return sorted(found.values_list("recipient_name", flat=True))


def test_pages_neither_repeat_nor_skip_awards_with_the_same_timestamp(
    cast: Cast, version: AchievementVersion
) -> None:
    made = [award(cast.awarder, version, email=f"l{i}@example.com", name=f"L{i}") for i in range(7)]
    same = timezone.now() - timedelta(days=1)
    Award.objects.filter(pk__in=[a.pk for a in made[:5]]).update(awarded_at=same)
    awards = awards_list.matching(cast.owner, cast.institution, AwardFilter())

    seen: list[uuid.UUID] = []
    pages = []
    page = awards_list.page_of(awards, "newest", size=2)
    while True:
        pages.append(page)
        seen += [row.pk for row in page.rows]
        if page.next_cursor is None:
            break
        page = awards_list.page_of(awards, "newest", after=page.next_cursor, size=2)

    assert sorted(seen) == sorted(a.pk for a in made)
    assert len(seen) == 7
    # And back again: the page before the last is the one that was shown before it.
    back = awards_list.page_of(awards, "newest", before=pages[-1].previous_cursor or "", size=2)
    assert [r.pk for r in back.rows] == [r.pk for r in pages[-2].rows]
    assert pages[0].previous_cursor is None


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_expired_awards_page_in_date_order_both_ways(
    cast: Cast, version: AchievementVersion, sort: str
) -> None:
    """The expired filter sorts its matches apart from the date index (at a million awards the
    index walk passed every unexpired award first); the pages must still be the date order."""
    made = [award(cast.awarder, version, email=f"x{i}@example.com", name=f"X{i}") for i in range(7)]
    award(cast.awarder, version, email="live@example.com", name="Live")
    now = timezone.now()
    for n, one in enumerate(made):
        Award.objects.filter(pk=one.pk).update(
            awarded_at=now - timedelta(days=400 + (n // 2)), valid_until=now - timedelta(days=1)
        )
    awards = awards_list.with_row_facts(
        awards_list.matching(cast.owner, cast.institution, AwardFilter(state="expired"))
    )
    expected = [
        a.pk
        for a in sorted(
            Award.objects.filter(pk__in=[m.pk for m in made]),
            key=lambda a: (a.awarded_at, a.pk),
            reverse=sort == "newest",
        )
    ]

    pages = [awards_list.page_of(awards, sort, size=3)]
    while pages[-1].next_cursor:
        pages.append(awards_list.page_of(awards, sort, after=pages[-1].next_cursor, size=3))

    assert [row.pk for page in pages for row in page.rows] == expected
    assert [len(page.rows) for page in pages] == [3, 3, 1]
    back = awards_list.page_of(awards, sort, before=pages[-1].previous_cursor or "", size=3)
    assert [r.pk for r in back.rows] == [r.pk for r in pages[-2].rows]


def test_sorts_by_date_both_ways_and_by_learner_name(
    cast: Cast, version: AchievementVersion
) -> None:
    for i, name in enumerate(["Cleo", "Ana", "Bea"]):
        made = award(cast.awarder, version, email=f"s{i}@example.com", name=name)
        Award.objects.filter(pk=made.pk).update(awarded_at=timezone.now() - timedelta(days=i))
    awards = awards_list.matching(cast.owner, cast.institution, AwardFilter())

    assert _names(awards_list.page_of(awards, "newest").rows) == ["Cleo", "Ana", "Bea"]
    assert _names(awards_list.page_of(awards, "oldest").rows) == ["Bea", "Ana", "Cleo"]
    first = awards_list.page_of(awards, "name", size=2)
    assert _names(first.rows) == ["Ana", "Bea"]
    assert first.next_cursor is not None
    rest = awards_list.page_of(awards, "name", size=2, after=first.next_cursor)
    assert _names(rest.rows) == ["Cleo"] and rest.next_cursor is None


def test_search_finds_a_learner_by_name_email_or_student_number(
    cast: Cast, version: AchievementVersion
) -> None:
    award(cast.awarder, version, email="ana.tester@example.com", name="Ana Tester")
    award(cast.awarder, version, email="bo@example.com", name="Bo Lin")
    award(
        cast.awarder,
        version,
        email="",
        name="王小明",
        identifier_type="studentId",
        identifier="20261234",
    )

    assert _find(cast, search="tester") == ["Ana Tester"]  # part of the name, any case
    assert _find(cast, search="ANA TES") == ["Ana Tester"]
    assert _find(cast, search="ana.tester@example.com") == ["Ana Tester"]  # exact address
    assert _find(cast, search="bo@") == ["Bo Lin"]  # its start
    assert _find(cast, search="20261234") == ["王小明"]  # a student number
    assert _find(cast, search="小明") == ["王小明"]
    assert _find(cast, search="nobody") == []


def test_each_filter_narrows_the_list(cast: Cast, version: AchievementVersion) -> None:
    other = make_published(cast.editor, cast.issuer, slug="second")
    kept = award(cast.awarder, version, email="k@example.com", name="Kept")
    revoked = award(cast.awarder, version, email="r@example.com", name="Revoked")
    suspended = award(cast.awarder, version, email="s@example.com", name="Suspended")
    claimed = award(cast.awarder, other, email="c@example.com", name="Claimed")
    expired = award(cast.awarder, version, email="e@example.com", name="Expired")
    old = award(cast.awarder, version, email="o@example.com", name="Old")
    revocation_services.revoke_award(actor=cast.editor, award=revoked, reason="Wrong learner")
    revocation_services.suspend_award(actor=cast.editor, award=suspended, reason="Checking")
    now = timezone.now()
    Award.objects.filter(pk=claimed.pk).update(claimed_at=now)
    Award.objects.filter(pk=expired.pk).update(valid_until=now - timedelta(days=1))
    Award.objects.filter(pk=old.pk).update(awarded_at=now - timedelta(days=400))
    replacement = award(cast.awarder, version, email="k2@example.com", name="Replacement")
    Award.objects.filter(pk=replacement.pk).update(reissued_from=kept)
    batch = BulkBatch.objects.create(issuer=cast.issuer, achievement_version=version)
    BulkRow.objects.create(batch=batch, number=2, email="o@example.com", award=old)

    assert _find(cast, state="revoked") == ["Revoked"]
    assert _find(cast, state="suspended") == ["Suspended"]
    assert _find(cast, state="claimed") == ["Claimed"]
    assert _find(cast, state="expired") == ["Expired"]
    assert _find(cast, state="superseded") == ["Kept"]
    assert "Kept" in _find(cast, state="issued") and "Claimed" not in _find(cast, state="issued")
    assert _find(cast, achievement=other.achievement_id) == ["Claimed"]
    assert _find(cast, issuer=cast.other_issuer.pk) == []
    assert len(_find(cast, issuer=cast.issuer.pk)) == 7
    assert _find(cast, awarded_until=now - timedelta(days=300)) == ["Old"]
    assert "Old" not in _find(cast, awarded_from=now - timedelta(days=300))
    assert _find(cast, batch=batch.pk) == ["Old"]


def test_the_count_says_more_than_past_its_cap(cast: Cast, version: AchievementVersion) -> None:
    for i in range(4):
        award(cast.awarder, version, email=f"c{i}@example.com", name=f"C{i}")
    awards = awards_list.matching(cast.owner, cast.institution, AwardFilter())
    assert awards_list.count_capped(awards, cap=10) == (4, False)
    assert awards_list.count_capped(awards, cap=3) == (3, True)


def test_another_institutions_awards_are_never_listed(
    cast: Cast, version: AchievementVersion
) -> None:
    theirs = make_published(cast.outsider, cast.other_issuer, slug="theirs")
    award(cast.outsider, theirs, email="their@example.com", name="Their Learner")
    assert _find(cast) == []
    assert _find(cast, search="Their") == []


def _page(client: Client, cast: Cast, query: str = "") -> str:
    response = client.get(reverse("manage:awards", args=[cast.institution.slug]) + query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_pages_by_cursor_and_links_are_shareable(
    client: Client, cast: Cast, version: AchievementVersion
) -> None:
    for i in range(awards_list.PAGE_SIZE + 3):
        Award.objects.filter(
            pk=award(cast.awarder, version, email=f"p{i}@example.com", name=f"P{i:03}").pk
        ).update(awarded_at=timezone.now() - timedelta(minutes=i))
    client.force_login(cast.editor)

    first = _page(client, cast, "?sort=newest")
    assert "P000" in first and "P052" not in first
    assert "53 awards." in first
    link = re.search(r'rel="next" href="\?([^"]+)"', first)
    assert link is not None and "sort=newest" in link.group(1) and "after=" in link.group(1)
    second = _page(client, cast, "?" + link.group(1).replace("&amp;", "&"))
    assert "P052" in second and "P000" not in second
    assert "offset" not in link.group(1).lower() and "page=" not in link.group(1)
    # One date format: 2026-12-02, never "Dec. 2, 2026" or "12/02/2026".
    assert re.search(r">\d{4}-\d{2}-\d{2}<", first)
    assert not re.search(r"\d{2}/\d{2}/\d{4}", first)


def test_the_page_says_when_no_awards_match(
    client: Client, cast: Cast, version: AchievementVersion
) -> None:
    award(cast.awarder, version, email="x@example.com", name="Xia")
    client.force_login(cast.editor)
    page = _page(client, cast, "?q=zzz-nobody")
    assert "No awards match." in page and "Xia" not in page
    assert "Xia" in _page(client, cast, "?q=xia")


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _grow(cast: Cast, version: AchievementVersion, n: int, prefix: str) -> None:
    for i in range(n):
        made = award(cast.awarder, version, email=f"{prefix}{i}@example.com", name=f"{prefix}{i}")
        if i % 3 == 0:
            revocation_services.suspend_award(actor=cast.editor, award=made, reason="Check")


@pytest.mark.parametrize(
    "query",
    ["", "?q=learner", "?state=suspended&sort=name", "?sort=oldest&awarded_from=2020-01-01"],
)
def test_a_page_reads_the_same_number_of_queries_for_few_or_many_awards(
    client: Client, cast: Cast, version: AchievementVersion, query: str
) -> None:
    _grow(cast, version, 2, "learner-a")
    client.force_login(cast.owner)
    url = reverse("manage:awards", args=[cast.institution.slug]) + query
    _queries(client, url)  # warm
    few = _queries(client, url)
    _grow(cast, version, 12, "learner-b")
    make_published(cast.editor, cast.issuer, slug="another")
    assert _queries(client, url) == few
    # session, user, institution, memberships; issuers, micro-credentials and their
    # versions, uploads (the filters' choices); the page's rows, their e-mails; the count;
    # the console menu's "has a membership" check.
    assert few == 12


def test_a_viewer_sees_no_bulk_actions_and_an_awarder_only_resend(
    client: Client, cast: Cast, version: AchievementVersion
) -> None:
    award(cast.awarder, version, email="v@example.com", name="Vee")
    client.force_login(cast.viewer)
    assert 'name="action"' not in _page(client, cast)
    client.force_login(cast.awarder)
    page = _page(client, cast)
    assert 'value="resend"' in page and 'value="revoke"' not in page
