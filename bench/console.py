"""The registrar's console at volume: the awards list, its export, the dashboard and the
analytics pages, timed on the database ``bench/seed_scale.py`` grew.

    .venv/bin/python bench/console.py --seed 1000000     # seed afresh, fold analytics, time
    .venv/bin/python bench/console.py [--database-url postgres://…/insignia_scale] [--repeat 30]

``--seed`` runs ``bench/seed_scale.py`` (a fresh database of that many awards) and
``manage.py rebuild_analytics`` first; without it the pages are timed on the database as it is.

Read-only: it signs in as the owner of the seeded institution with
the most awards through Django's test client (``force_login`` with a signed-cookie session
and no sign-in signal, so nothing is written) and asks for each page ``--repeat`` times after
one warm-up request, with the platform's own code and settings (``INSIGNIA_ENV=test``, as
``bench/seed_scale.py`` configures it). Prints one JSON line per page: p50/p99/max ms, the
query count of a request (``CaptureQueriesContext``; the same every time, or it says so),
its status and the page's size; then a summary against the target (p99 ≤ 150 ms a page).

Pages: the awards list's first page; a late page (the cursor of an award about 90 % down the
list, as if the registrar had followed "Next" that far: keyset paging reads the same there);
a search by a learner's name (part of it), by an e-mail prefix and by student number; each
filter (micro-credential, issuer, each state, a date range, a bulk upload) and each sort;
the CSV export of a filter's first 10,000 rows (read until then, then closed); and
``manage:dashboard`` and ``manage:analytics`` when those URL names resolve (printed as
skipped otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess  # nosec B404 - runs the seeder and manage.py, no shell
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/insignia_scale"
TARGET_P99_MS = 150.0


def emit(**fields: Any) -> None:
    print(json.dumps({"bench": "console", **fields}, ensure_ascii=False), flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def measure(
    name: str, request: Callable[[], Any], repeat: int, consume: Callable[[Any], int]
) -> dict[str, Any]:
    """Time ``request`` ``repeat`` times after one warm-up; count the queries of each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = request()
    consume(response)
    times: list[float] = []
    counts: set[int] = set()
    size = 0
    status = response.status_code
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = request()
            size = consume(response)
            times.append((time.perf_counter() - started) * 1000)
        counts.add(len(captured))
        status = response.status_code
    result = {
        "page": name,
        "status": status,
        "p50_ms": round(statistics.median(times), 1),
        "p99_ms": round(percentile(times, 0.99), 1),
        "max_ms": round(max(times), 1),
        "queries": sorted(counts)[0] if len(counts) == 1 else sorted(counts),
        "bytes": size,
        "repeat": repeat,
    }
    emit(**result)
    return result


def _body(response: Any) -> int:
    if getattr(response, "streaming", False):
        return sum(len(part) for part in response.streaming_content)
    return len(response.content)


def _export_head(rows: int) -> Callable[[Any], int]:
    """Read a streamed CSV until ``rows`` lines have come, then close it."""

    def consume(response: Any) -> int:
        lines = 0
        size = 0
        for part in response.streaming_content:
            size += len(part)
            lines += part.count(b"\n")
            if lines > rows:
                break
        response.close()
        return size

    return consume


def _seed(database_url: str, awards: int) -> None:
    """Grow a fresh database with the scale seeder and fold its analytics, each in its own
    process (each configures Django for itself)."""
    seeder = [sys.executable, str(ROOT / "bench" / "seed_scale.py")]
    subprocess.run(  # noqa: S603 # nosec B603 - our own seeder, fixed arguments
        [*seeder, "--awards", str(awards), "--database-url", database_url], check=True
    )
    environment = {**os.environ, "INSIGNIA_ENV": "test", "DATABASE_URL": database_url}
    started = time.monotonic()
    subprocess.run(  # noqa: S603 # nosec B603 - our own manage.py, fixed arguments
        [sys.executable, str(ROOT / "manage.py"), "rebuild_analytics"],
        check=True,
        env=environment,
        cwd=ROOT,
    )
    emit(phase="rebuild_analytics", seconds=round(time.monotonic() - started, 1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--export-rows", type=int, default=10_000)
    parser.add_argument("--export-repeat", type=int, default=3)
    parser.add_argument(
        "--seed",
        type=int,
        metavar="AWARDS",
        help="first make the database afresh with AWARDS awards (bench/seed_scale.py, "
        "1000000 for the target) and fold its analytics (manage.py rebuild_analytics)",
    )
    args = parser.parse_args(argv)
    if args.seed:
        _seed(args.database_url, args.seed)

    from bench.seed_scale import DEFAULT_BASE_URL, configure

    configure(args.database_url, DEFAULT_BASE_URL)
    from django.conf import settings
    from django.contrib.auth.signals import user_logged_in
    from django.db.models import Count
    from django.test import Client
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from accounts.models import User
    from awarding import awards_list
    from badges.models import Award, BulkBatch
    from issuers.models import Institution

    institution = (
        Institution.objects.annotate(n=Count("issuers__awards")).order_by("-n", "pk").first()
    )
    if institution is None:
        sys.exit("No institution: seed the database with bench/seed_scale.py first.")
    owner = User.objects.filter(
        memberships__institution=institution,
        memberships__role="owner",
        memberships__issuer=None,
    ).first()
    if owner is None:
        sys.exit("The institution has no owner: was it seeded by bench/seed_scale.py?")
    # Read-only: the session lives in a signed cookie, and signing in sends no signal (no
    # last-login or sign-in record is written to the seeded database).
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    client = Client(HTTP_ACCEPT_LANGUAGE="en", SERVER_NAME="scale.insignia.test", secure=True)
    with mock.patch.object(user_logged_in, "send", return_value=[]):
        client.force_login(owner)
    slug = institution.slug
    listing = reverse("manage:awards", args=[slug])
    awards = Award.objects.filter(issuer__institution=institution)
    total = awards.count()
    emit(phase="setup", institution=slug, awards=total, all_awards=Award.objects.count())

    sample = awards.order_by("-awarded_at", "-pk")
    late = sample[int(total * 0.9)]
    late_cursor = awards_list.encode_cursor(late, "newest")
    someone = sample[total // 3]
    name_part = (someone.recipient_name.split() or ["a"])[-1][:5]
    email_prefix = quote((someone.recipient_email or "a@").split("@")[0] + "@")
    student = (
        awards.exclude(recipient_identifier="").values_list("recipient_identifier", flat=True)
    ).first()
    achievement = someone.achievement_version.achievement_id
    batch = BulkBatch.objects.filter(issuer__institution=institution).order_by("-pk").first()
    today = timezone.localdate()
    queries: list[tuple[str, str]] = [
        ("awards.first", ""),
        ("awards.late", f"?after={late_cursor}"),
        ("awards.search.name", f"?q={quote(name_part)}"),
        ("awards.search.email_prefix", f"?q={email_prefix}"),
        ("awards.filter.achievement", f"?achievement={achievement}"),
        ("awards.filter.issuer", f"?issuer={someone.issuer_id}"),
        ("awards.filter.dates", f"?awarded_from={today.replace(year=today.year - 1)}"),
        ("awards.sort.oldest", "?sort=oldest"),
        ("awards.sort.name", "?sort=name"),
    ]
    if student:
        queries.append(("awards.search.student_number", f"?q={student}"))
    for state in awards_list.STATES:
        queries.append((f"awards.filter.state.{state}", f"?state={state}"))
    if batch is not None:
        queries.append(("awards.filter.batch", f"?batch={batch.pk}"))
    results = []
    for name, query in queries:
        url = listing + query
        results.append(measure(name, partial(client.get, url), args.repeat, _body))
    export = reverse("manage:awards_export_csv", args=[slug])
    results.append(
        measure(
            f"awards.export.csv.first_{args.export_rows}",
            lambda: client.get(export + f"?achievement={achievement}"),
            args.export_repeat,
            _export_head(args.export_rows),
        )
    )
    for name in ("manage:dashboard", "manage:analytics"):
        try:
            url = reverse(name, args=[slug])
        except NoReverseMatch:
            emit(page=name, skipped="the URL name does not resolve")
            continue
        results.append(measure(name, partial(client.get, url), args.repeat, _body))
    pages = [r for r in results if not r["page"].startswith("awards.export")]
    slow = [r["page"] for r in pages if r["p99_ms"] > TARGET_P99_MS]
    emit(
        phase="summary",
        target_p99_ms=TARGET_P99_MS,
        pages=len(pages),
        over_target=slow,
        worst_p99_ms=max(r["p99_ms"] for r in pages),
    )


if __name__ == "__main__":
    main()
