"""Benchmark: CPU time of one view of the public badge page in-process, cold and warm.

    .venv/bin/python bench/pages.py [--awards 150] [--rounds 5]
        [--database-url postgres://postgres@127.0.0.1:5432/insignia_bench_pages]
        [--redis-url redis://127.0.0.1:6379/5] [--label after]

Django's test client against PostgreSQL (a scratch database: dropped and made again) with
Redis as the cache and the view buffer (``--redis-url``; ``none`` for local memory and the
direct INSERT). ``--awards`` badges of one issuer; each scenario requests each of them in
turn and reports the CPU time of this process per request (``time.process_time``: the
database's and Redis's own CPU are not in it), median and mean, and the queries per view:

1. ``pages.badge_page`` ``cold``: the first view of each badge (its page not cached; the
   skeleton it shares with the other badges of its achievement version and state is, after
   the first: ``sharing.page``);
2. ``pages.badge_page`` ``warm``: ``--rounds`` more views of each by other readers (the
   cached page with the reader's token, path and time filled in);
3. ``pages.badge_page`` ``revalidate``: a reader who holds the page asks again with its
   ``If-None-Match`` (a 304);
4. ``pages.credential_json`` ``warm``: the ``.json`` of each;
5. ``pages.badge_page`` ``cold_unshared``: the first view of a badge whose content no one
   has viewed (every cache emptied before each request: the whole page is rendered).

``--seeded postgres://…/insignia_scale [--sample 500]``: instead, first views of badges
sampled from a database grown by ``bench/seed_scale.py`` (many issuers, achievements,
states and languages), read-only (the session refuses writes; views are counted in Redis),
in en and zh-Hans: ``pages.first_view_seeded`` ``skeletons_cold`` for the first half of the
sample (nothing cached), ``skeletons_warm`` for the second (their pages not cached, the
skeletons of the first half are: a crowd viewing many badges of a few achievements).

"Before" figures: run this same file from a tree of the commit before the change (``git
archive <commit> | tar -x -C /tmp/before``; copy this file into its ``bench/``) with
``--label before``; there every view costs what a cold one does, and the QR is drawn each
time. Prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "django": version("django"),
    }


def _recreate(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup(database_url: str, redis_url: str, count: int) -> list[str]:
    """A migrated scratch database with ``count`` badges; their ids."""
    env = {
        "INSIGNIA_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "insignia.settings",
        "DATABASE_URL": database_url,
    }
    if redis_url != "none":
        env["CACHE_URL"] = redis_url
    os.environ.update(env)
    _recreate(database_url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    with contextlib.redirect_stdout(sys.stderr):  # the award e-mails print to the console
        call_command("migrate", verbosity=0)
        from tests.badges.helpers import award, make_published
        from tests.base import make_cast

        cast = make_cast()
        version_ = make_published(cast.owner, cast.issuer)
        ids = [
            str(
                award(
                    cast.awarder, version_, email=f"learner{i}@example.com", name=f"Learner {i}"
                ).pk
            )
            for i in range(count + 1)
        ]
    cache.clear()
    return ids


def _forget() -> None:
    """Empty every cache the badge page reads: the cache backend and this process's
    skeletons (trees before ``sharing.page`` have none)."""
    from django.core.cache import cache

    cache.clear()
    with contextlib.suppress(ImportError):
        from sharing import page

        page.kept.clear()


def _measure(
    name: str,
    mode: str,
    urls: list[str],
    headers: list[dict[str, str]],
    label: str,
    before: Any = None,
) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    cpu: list[float] = []
    queries: list[int] = []
    statuses: set[int] = set()
    for url, extra in zip(urls, headers, strict=True):
        client = Client()
        if "cookie" in extra:
            client.cookies.load(extra["cookie"])
        wanted: dict[str, Any] = {k: v for k, v in extra.items() if k != "cookie"}
        if before is not None:
            before()
        with CaptureQueriesContext(connection) as captured:
            started = time.process_time()
            response = client.get(url, **wanted)
            cpu.append((time.process_time() - started) * 1000)
        statuses.add(response.status_code)
        queries.append(len(captured.captured_queries))
    return {
        "bench": name,
        "mode": mode,
        "label": label,
        "n": len(urls),
        "cpu_ms_median": round(statistics.median(cpu), 3),
        "cpu_ms_mean": round(statistics.fmean(cpu), 3),
        "per_sec_one_core": round(1000 / statistics.fmean(cpu), 1),
        "queries_per_view": round(statistics.fmean(queries), 2),
        "statuses": sorted(statuses),
    }


def seeded(database_url: str, redis_url: str, sample: int, label: str) -> list[dict[str, Any]]:
    """First views of ``sample`` badges of a seeded database, read-only."""
    separator = "&" if "?" in database_url else "?"
    os.environ.update(
        {
            "INSIGNIA_ENV": "test",
            "DJANGO_SETTINGS_MODULE": "insignia.settings",
            "DATABASE_URL": database_url
            + separator
            + "options=-c%20default_transaction_read_only%3Don",
            "CACHE_URL": redis_url,
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.ALLOWED_HOSTS = ["*"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM badges_award TABLESAMPLE SYSTEM (0.5) REPEATABLE (8) LIMIT %s",
            [sample * 2 + 1],
        )
        ids = [str(row[0]) for row in cursor.fetchall()]
    _forget()
    from django.test import Client

    browser: dict[str, Any] = {"HTTP_ACCEPT": "text/html", "HTTP_USER_AGENT": "Mozilla/5.0 (bench)"}
    Client().get(f"/credentials/{ids.pop()}", **browser)  # imports, templates, translations
    lines: list[dict[str, Any]] = []
    half = len(ids) // 2
    for language in ("en", "zh-Hans"):
        _forget()
        headers = [{**browser, "HTTP_ACCEPT_LANGUAGE": language}] * half
        for mode, chosen in (("skeletons_cold", ids[:half]), ("skeletons_warm", ids[half:])):
            urls = [f"/credentials/{award_id}" for award_id in chosen[:half]]
            line = _measure("pages.first_view_seeded", mode, urls, headers, label)
            lines.append({**line, "language": language})
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--awards", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/insignia_bench_pages"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--label", default="after")
    parser.add_argument("--seeded", default="", help="a seed_scale.py database, read-only")
    parser.add_argument("--sample", type=int, default=500)
    args = parser.parse_args()
    if args.seeded:
        found = seeded(args.seeded, args.redis_url, args.sample, args.label)
        for line in [{"bench": "pages.machine", **_machine(), "label": args.label}, *found]:
            print(json.dumps(line, ensure_ascii=False))
        return

    ids = setup(args.database_url, args.redis_url, args.awards)
    from django.test import Client

    Client().get(f"/credentials/{ids.pop()}")  # imports, templates, translations
    pages = [f"/credentials/{award_id}" for award_id in ids]
    browser: dict[str, Any] = {"HTTP_ACCEPT": "text/html", "HTTP_USER_AGENT": "Mozilla/5.0 (bench)"}
    lines = [
        {"bench": "pages.machine", **_machine(), "label": args.label, "redis": args.redis_url},
        _measure("pages.badge_page", "cold", pages, [browser] * len(pages), args.label),
        _measure(
            "pages.badge_page",
            "warm",
            pages * args.rounds,
            [browser] * len(pages) * args.rounds,
            args.label,
        ),
    ]
    held: list[dict[str, str]] = []
    for url in pages:
        client = Client()
        first = client.get(url, **browser)
        cookie = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
        etag = first.get("ETag", "")
        held.append({**browser, "HTTP_IF_NONE_MATCH": etag, "cookie": cookie})
    lines.append(_measure("pages.badge_page", "revalidate", pages, held, args.label))
    json_urls = [f"{url}.json" for url in pages] * args.rounds
    lines.append(
        _measure("pages.credential_json", "warm", json_urls, [{}] * len(json_urls), args.label)
    )
    lines.append(
        _measure(
            "pages.badge_page",
            "cold_unshared",
            pages,
            [browser] * len(pages),
            args.label,
            before=_forget,
        )
    )
    for line in lines:
        print(json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    main()
