"""Query budgets of the public pages of an award, cold (first request: nothing cached) and
warm (the body comes from the cache). Warm, each page reads one row (the award with what it
shows: its state version) and nothing else; the view is counted in Redis (a throw-away
server of the test's own, never the shared 6379).

A budget that fails means a page started reading more on every view: find the read and
fold it into the state query or the cached body, do not raise the number.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.test import Client, override_settings

from badges.models import Award
from tests.badges.helpers import award, make_published
from tests.base import Cast, png_bytes

pytestmark = pytest.mark.django_db

Counter = Callable[..., AbstractContextManager[object]]


@pytest.fixture
def badge(cast: Cast) -> Award:
    version = make_published(cast.editor, cast.issuer, image=png_bytes(120, 120))
    return award(cast.awarder, version, email="lee@example.com", name="Lee Learner")


def _get(client: Client, url: str, status: int = 200, **headers: Any) -> None:
    assert client.get(url, **headers).status_code == status


# (path after /credentials/<id> or the OB 2.0 URL, cold queries, warm queries). Cold: the
# state row, the signed text (left out of the state row: it never changes), and what the
# body needs besides (the badge image). The badge page's and cards' award row carries who
# holds the award (sharing.page.load).
PAGES = [
    # the state row, the award with all its page shows (the drawn skeleton is shared)
    ("/credentials/{id}", 2, 1),
    # the signed text only: it is the answer
    ("/credentials/{id}.json", 1, 1),
    # the state row, the signed text, the badge image
    ("/credentials/{id}.png", 3, 1),
    ("/credentials/{id}.svg", 3, 1),
    # the state row, the award with who holds it, the badge image
    ("/credentials/{id}/preview.png", 3, 1),
    ("/credentials/{id}/wechat.png", 3, 1),
    # the state row and the signed text
    ("/ob2/assertions/{id}", 2, 1),
    # the state row, the signed text, the badge image
    ("/ob2/assertions/{id}.png", 3, 1),
]


@pytest.mark.parametrize(("path", "cold", "warm"), PAGES)
def test_each_public_page_reads_one_row_once_cached(
    view_buffer: str,
    badge: Award,
    django_assert_num_queries: Counter,
    path: str,
    cold: int,
    warm: int,
) -> None:
    url = path.format(id=badge.pk)
    with django_assert_num_queries(cold):
        _get(Client(), url)
    with django_assert_num_queries(warm):
        _get(Client(), url)  # another reader: the cached body


def test_a_revalidation_reads_one_row(
    view_buffer: str, badge: Award, django_assert_num_queries: Counter
) -> None:
    reader = Client()
    for path, _cold, _warm in PAGES:
        url = path.format(id=badge.pk)
        etag = reader.get(url)["ETag"]
        with django_assert_num_queries(1):
            _get(reader, url, 304, HTTP_IF_NONE_MATCH=etag)


def test_without_redis_the_view_is_inserted_in_the_request(
    badge: Award, django_assert_num_queries: Counter
) -> None:
    url = f"/credentials/{badge.pk}"
    _get(Client(), url)
    # the state row, then the view: a savepoint, the INSERT, its release
    with override_settings(INSIGNIA_VIEW_BUFFER_URL=""), django_assert_num_queries(4):
        _get(Client(), url)
