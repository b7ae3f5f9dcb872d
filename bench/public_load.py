"""Public pages and the verify API under load, on the database ``bench/seed_scale.py`` grew.

    .venv/bin/python bench/seed_scale.py                # once: 1,000,000 awards
    .venv/bin/python bench/public_load.py [--rate 300] [--duration 60] [--verify-rate 100]

The app runs as deployed: ``INSIGNIA_ENV=production`` (``bench/_drill_settings.py``: only the
static root and a cache key prefix differ), gunicorn ``gthread`` with ``--workers`` processes
of ``--threads`` threads, Redis as the cache (``redis://127.0.0.1:6379/3``: a database number
of its own, ``BENCH_REDIS_URL`` to change it), PostgreSQL ``--database-url`` (default
``insignia_scale``), with the seeder's base URL and key-encryption key. Clients play a
TLS-terminating proxy (``X-Forwarded-Proto: https``, ``INSIGNIA_TRUSTED_PROXIES=1``) in front
of a crowd: each request comes from one of ``--clients`` (1,000) made-up addresses, so the
verifier's per-client limits see a crowd of people checking a few badges each, not one
client hammering it. Each scenario is ``bench/load.py``'s open-loop ``run()`` (latency from
the scheduled send time):

1. ``public.page.peer`` and ``public.page``: the HTML badge page of ``--pages`` (5,000)
   awards drawn at random from the whole database (every state: valid, expired, revoked,
   suspended, superseded), with a browser's ``Accept`` and ``Accept-Language`` (two in five
   Chinese, the rest English): first at ``--peer-rate`` (100, the DESIGN.md target) req/s
   for 30 s, then at ``--rate`` (300, the issue's) req/s for ``--duration`` (60) s. The
   targets go round-robin, so each page is asked for about ``rate * duration / pages``
   times (3.6 by default).
2. ``public.page.conditional``: 500 of the same pages asked again with the ``If-None-Match``
   their first answer gave (a browser's or a CDN's revalidation); skipped when the page sends no
   ``ETag``.
3. ``verify.api``: ``POST /api/v1/verify`` with a genuinely signed credential of the seeded
   sample (``bench_seed_signed``; valid, revoked and suspended ones as seeded) at
   ``--verify-rate`` (100) req/s for ``--verify-duration`` (60) s.

Before them, 5 s at 10 req/s on other awards' pages start the workers (a cold worker's first
page takes seconds: imports, templates); nothing is cached on purpose. After each scenario
the server is given time to work off any backlog its clients gave up on
(``drained_seconds``), so that the next one starts on an idle server. Prints one JSON line
per scenario (``bench/load.py``'s fields: p50/p90/p99/max ms, errors, shed, achieved rate)
with the machine's facts, the worker count and why, the server's errors from its log and its
memory.

Workers: one process per core plus one (3 on 2 cores): pages are CPU-bound Python under a
GIL per process, so processes beyond the cores only add switching, and the extra one keeps
the cores busy while others wait on PostgreSQL; 8 threads each overlap those waits, as
``docker-compose.yml`` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _drill_stack as stack_  # noqa: E402 - after the path is set
from bench import load  # noqa: E402
from bench.seed_scale import DEFAULT_URL, KEK  # noqa: E402

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
LANGUAGES = ["zh-CN,zh;q=0.9,en;q=0.8", "en-GB,en;q=0.9", "en-US,en;q=0.9"]
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)


def _connect(url: str) -> Any:
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        dbname=parts.path.lstrip("/"),
        autocommit=True,
    )


def read_seed(url: str, pages: int, credentials: int) -> tuple[str, list[str], list[str], int]:
    """The seeder's base URL, ``pages`` + 200 random award ids, up to ``credentials`` genuinely
    signed credential texts, and the number of awards."""
    with _connect(url) as db:
        row = db.execute("SELECT value FROM bench_seed_meta WHERE key = 'base_url'").fetchone()
        if row is None:
            raise SystemExit(f"{url} was not grown by bench/seed_scale.py")
        base_url = str(row[0])
        total = int(db.execute("SELECT count(*) FROM badges_award").fetchone()[0])
        # Every row has the same chance: a random sort of the ids (about a second at 1M).
        ids = [
            str(r[0])
            for r in db.execute(
                "SELECT id FROM badges_award ORDER BY random() LIMIT %s", [pages + 200]
            )
        ]
        texts = [
            str(r[0])
            for r in db.execute(
                "SELECT a.credential_json FROM badges_award a "
                "JOIN bench_seed_signed s ON s.award_id = a.id ORDER BY random() LIMIT %s",
                [credentials],
            )
        ]
    return base_url, ids, texts, total


def server_facts(url: str) -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with _connect(url) as db:
        postgres = str(db.execute("SHOW server_version").fetchone()[0])
        size = str(
            db.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "django": version("django"),
        "gunicorn": version("gunicorn"),
        "psycopg": version("psycopg"),
        "postgres": postgres,
        "database_size": size,
    }


def app_env(url: str, base_url: str) -> dict[str, str]:
    """Production settings as docker-compose.yml sets them, on loopback, for the seeded
    database (its base URL and key-encryption key)."""
    return {
        "INSIGNIA_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "bench._drill_settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "INSIGNIA_KEY_ENCRYPTION_KEY": KEK,
        "INSIGNIA_BASE_URL": base_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": url,
        "CACHE_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        "CELERY_BROKER_URL": "memory://",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "INSIGNIA_TRUSTED_PROXIES": "1",
        "LOG_LEVEL": "WARNING",
        "BENCH_CACHE_PREFIX": f"scale-{os.getpid()}-{secrets.token_hex(4)}",
    }


def page_targets(app: str, ids: list[str]) -> list[load.Target]:
    """Badge pages as browsers ask for them: two in five in Chinese."""
    return [
        load.Target(
            "GET",
            f"{app}/credentials/{award_id}",
            (
                ("Accept", BROWSER_ACCEPT),
                ("Accept-Language", LANGUAGES[0] if n % 5 < 2 else LANGUAGES[1 + n % 2]),
                ("User-Agent", USER_AGENT),
                ("X-Forwarded-Proto", "https"),
            ),
            name="page",
        )
        for n, award_id in enumerate(ids)
    ]


def crowd(clients: int) -> Any:
    """Per-request ``X-Forwarded-For``: the proxy appends one of ``clients`` addresses."""

    def headers(index: int) -> list[tuple[str, str]]:
        n = index % clients
        return [("X-Forwarded-For", f"10.{19 + n // 65536}.{n // 256 % 256}.{n % 256}")]

    return headers


def etags(port: int, targets: list[load.Target]) -> list[load.Target]:
    """The same requests with ``If-None-Match``: the ETag each page's first answer gave."""
    import http.client

    conditional = []
    for target in targets:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            path = urlsplit(target.url).path
            connection.request("GET", path, headers=dict(target.headers))
            response = connection.getresponse()
            response.read()
            tag = response.getheader("ETag")
            # The page's ETag names the reader's CSRF cookie (the token is in the page), so
            # a returning browser sends back the cookie it was given, as this one does.
            cookies = [
                value.split(";", 1)[0]
                for name, value in response.getheaders()
                if name.lower() == "set-cookie"
            ]
        finally:
            connection.close()
        if not tag:
            return []
        extra = [("If-None-Match", tag)] + ([("Cookie", "; ".join(cookies))] if cookies else [])
        conditional.append(
            load.Target("GET", target.url, (*target.headers, *extra), name="conditional")
        )
    return conditional


def scenario(
    label: str,
    targets: list[load.Target],
    rate: float,
    duration: float,
    *,
    clients: int,
    stack: stack_.Stack,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """One ``bench/load.py`` run and its JSON line; then wait until the server has worked off
    any backlog (``drained_seconds``), so the next scenario starts on an idle server."""
    before = stack.log_errors()
    samples, elapsed = asyncio.run(
        load.run(targets, rate, duration, timeout=10.0, extra_headers=crowd(clients))
    )
    line = load.summarise(samples, label=label, rate=rate, duration=duration, elapsed=elapsed)
    not_modified = sum(1 for s in samples if s.status == 304)
    if not_modified:  # a revalidation answered 304 is a success, not a "3xx" error
        line["ok"] += not_modified
        if line["errors"].get("3xx") == not_modified:
            del line["errors"]["3xx"]
    line["not_modified_share"] = round(not_modified / len(samples), 4) if samples else 0.0
    line["server_rss_mb"] = stack.rss_mb()
    line["drained_seconds"] = stack.drain()
    after = stack.log_errors()
    line["server_log"] = {k: after[k] - before[k] for k in after}
    line.update(extra)
    print(json.dumps(line), flush=True)
    return line


def forget_cache(env: dict[str, str]) -> int:
    """Delete this run's keys (its own prefix) from the Redis database the app used."""
    import redis

    client = redis.Redis.from_url(env["CACHE_URL"])
    keys = list(client.scan_iter(f"{env['BENCH_CACHE_PREFIX']}:*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
    return len(keys)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--rate", type=float, default=300.0, help="badge pages per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--pages", type=int, default=5000, help="distinct badge pages")
    parser.add_argument(
        "--peer-rate", type=float, default=100.0, help="pages/s first, for 30 s (0: skip)"
    )
    parser.add_argument("--conditional-duration", type=float, default=30.0, help="0: skip")
    parser.add_argument("--verify-rate", type=float, default=100.0)
    parser.add_argument("--verify-duration", type=float, default=60.0, help="0: skip")
    parser.add_argument("--credentials", type=int, default=500, help="signed ones to verify")
    parser.add_argument("--clients", type=int, default=1000, help="addresses in the crowd")
    cores = os.cpu_count() or 1
    parser.add_argument("--workers", type=int, default=cores + 1)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)

    base_url, ids, texts, total = read_seed(args.database_url, args.pages, args.credentials)
    facts = server_facts(args.database_url)
    env = app_env(args.database_url, base_url)
    stack = stack_.serve(env=env, workers=args.workers, threads=args.threads)
    try:
        app = f"http://127.0.0.1:{stack.port}"
        common = {
            "awards_in_database": total,
            "server": {
                "workers": args.workers,
                "threads": args.threads,
                "why": f"{cores} cores + 1: CPU-bound processes under a GIL each; "
                "threads overlap database waits",
            },
            "machine": facts,
        }
        warm = page_targets(app, ids[args.pages :] or ids[:1])  # not among the measured ones
        asyncio.run(load.run(warm, 10.0, 5.0, timeout=30.0, extra_headers=crowd(args.clients)))
        stack.drain()
        pages = page_targets(app, ids[: args.pages])
        if args.peer_rate > 0:
            scenario(
                "public.page.peer",
                pages[::-1],  # from the other end of the list
                args.peer_rate,
                30.0,
                clients=args.clients,
                stack=stack,
                extra={**common, "pages": len(pages)},
            )
        scenario(
            "public.page",
            pages,
            args.rate,
            args.duration,
            clients=args.clients,
            stack=stack,
            extra={**common, "pages": len(pages)},
        )
        if args.conditional_duration > 0:
            conditional = etags(stack.port, pages[:500])
            if conditional:
                scenario(
                    "public.page.conditional",
                    conditional,
                    args.rate,
                    args.conditional_duration,
                    clients=args.clients,
                    stack=stack,
                    extra={"pages": len(conditional)},
                )
            else:
                print(
                    json.dumps(
                        {"label": "public.page.conditional", "skipped": "no ETag on the page"}
                    ),
                    flush=True,
                )
        if args.verify_duration > 0 and texts:
            verify = [
                load.Target(
                    "POST",
                    f"{app}/api/v1/verify",
                    (("Content-Type", "application/json"), ("X-Forwarded-Proto", "https")),
                    json.dumps({"credential": json.loads(text)}).encode(),
                    name="verify",
                )
                for text in texts
            ]
            scenario(
                "verify.api",
                verify,
                args.verify_rate,
                args.verify_duration,
                clients=args.clients,
                stack=stack,
                extra={"credentials": len(verify), "genuinely_signed": True},
            )
    finally:
        stack.stop()
        shutil.rmtree(stack.workdir, ignore_errors=True)  # its static files and log
        forgotten = forget_cache(env)
    print(json.dumps({"label": "public_load.done", "cache_keys_deleted": forgotten}))


if __name__ == "__main__":
    main()
