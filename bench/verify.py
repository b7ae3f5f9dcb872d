"""Benchmark: the whole verification pipeline against Digital Bazaar's whole verifier, and the
verify API under load.

    .venv/bin/python bench/verify.py [--n 500] [--node-n 300] [--credentials 20] [--rounds 2]
        [--rate 100] [--seconds 20] [--overload 400] [--database-url URL] [--cache-url URL]

Our own credentials (``--credentials`` awards of one issuer, keys and state in the database,
contexts bundled), the same files for both verifiers, one run:

1. ``verify.pipeline``: :func:`verification.pipeline.verify` in this process on pasted JSON,
   N times over the credentials in turn: ``path`` ``stored`` (the default: the stored signed
   text is the reference, :mod:`verification.own`) and ``full`` (``trust_stored`` off:
   canonicalization and signature check, as for any credential); ``cache`` ``cold`` (the
   verification caches emptied before each verification) and ``warm``.
2. ``verify.node``: Digital Bazaar's ``vc.verifyCredential`` with its Bitstring Status List
   check (the list fetched and its proof verified) and the DID document resolved, as
   ``tests/interop/verify.mjs`` does (``tests/interop/verify_bench.mjs``): ``cold`` (a new
   document loader per verification: every DID document and list fetched again from the
   server below) and ``warm`` (one loader that keeps what it loaded). Needs
   ``make interop-deps``; skipped with a note when Node or the packages are missing.
3. ``verify.ratio``: ours per second over theirs, cold against cold and warm against warm,
   the median of ``--rounds`` rounds (the target, DESIGN.md §10: at least 3).
4. ``verify.api``: ``POST /api/v1/verify`` served by gunicorn (gthread, 2 workers x 8
   threads, the production limits on verifications in flight unless ``--in-flight`` /
   ``--in-flight-per-client`` say otherwise) in a second process on loopback, one client
   driving it open-loop at ``--rate`` requests/s (latency from each request's scheduled
   start, so queueing shows): p50, p99, shed (429) share; then ``--overload`` req/s to show
   the excess is shed. Target (issue 19): p99 ≤ 100 ms and nothing shed at 100 req/s.

A throw-away SQLite database under a temporary directory unless ``--database-url`` names
one (PostgreSQL: it must exist and is migrated; use a scratch database). The rate limit per
client is raised out of the way (a single client at 100 req/s is what is measured); the
cache is local memory per process unless ``--cache-url`` names a Redis. Prints one JSON
object per line.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "django": version("django"),
        "pyld": version("pyld"),
    }


def setup(env: dict[str, str], count: int) -> list[str]:
    """Migrate the database and award ``count`` badges; return their credential JSON."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    with contextlib.redirect_stdout(sys.stderr):  # the award e-mails print to the console
        call_command("migrate", verbosity=0)
        from tests.badges.helpers import award, make_published
        from tests.base import make_cast

        cast = make_cast()
        version = make_published(cast.owner, cast.issuer)
        return [
            award(
                cast.awarder, version, email=f"learner{i}@example.com", name=f"Learner {i}"
            ).credential_json
            for i in range(count)
        ]


def bench_pipeline(credentials: list[str], n: int, *, path: str, cold: bool) -> dict[str, Any]:
    """The whole pipeline on pasted JSON, ``n`` times over ``credentials`` in turn."""
    from django.core.cache import cache

    from verification import cache as vcache
    from verification import pipeline

    trust = path == "stored"
    requests = [pipeline.VerifyRequest(text=text, trust_stored=trust) for text in credentials]
    for request in requests:
        report = pipeline.verify(request)
        assert report.is_valid, report.as_json()
    timings = []
    started = time.perf_counter()
    cpu = time.process_time()
    for index in range(n):
        request = requests[index % len(requests)]
        t0 = time.perf_counter()
        if cold:
            cache.clear()
            vcache.clear_local()
        pipeline.verify(
            pipeline.VerifyRequest(text=request.text, trust_stored=request.trust_stored)
        )
        timings.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return {
        "bench": "verify.pipeline",
        "impl": "insignia",
        "path": path,
        "cache": "cold" if cold else "warm",
        "n": n,
        "credentials": len(credentials),
        "per_sec": round(n / elapsed, 1),
        "p50_ms": round(_percentile(timings, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(timings, 0.99) * 1000, 2),
        "cpu_ms_per_verification": round((time.process_time() - cpu) * 1000 / n, 3),
    }


NODE_DIR = ROOT / "tests" / "interop"


def bench_node(files: list[Path], n: int, mode: str) -> dict[str, Any] | None:
    """Digital Bazaar's whole verifier (``tests/interop/verify_bench.mjs``); ``None`` when
    Node or its packages are missing."""
    if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "@digitalbazaar").is_dir():
        return None
    command = ["node", str(NODE_DIR / "verify_bench.mjs"), "--mode", mode, "--n", str(n)]
    out = subprocess.run(  # noqa: S603 - our own script with fixed arguments
        [*command, *map(str, files)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if out.returncode != 0:
        raise SystemExit(f"verify_bench.mjs failed: {out.stderr[-2000:]}")
    line: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return {"bench": "verify.node", **{k: v for k, v in line.items() if k != "bench"}}


def load(port: int, body: bytes, rate: float, seconds: float) -> dict[str, Any]:
    """Open-loop load: one request every 1/rate s, each on its own thread (keep-alive off)."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    threads: list[threading.Thread] = []

    def one(scheduled: float) -> None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", "/api/v1/verify", body, {"Content-Type": "application/json"})
            status = connection.getresponse().status
            connection.close()
        except OSError:
            status = 0
        with lock:
            results.append((status, time.perf_counter() - scheduled))

    start = time.perf_counter()
    total = int(rate * seconds)
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=one, args=(scheduled,), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(60)
    served = [latency for status, latency in results if status == 200]
    shed = [latency for status, latency in results if status == 429]
    return {
        "offered_per_sec": rate,
        "seconds": seconds,
        "requests": len(results),
        "served": len(served),
        "shed_429": len(shed),
        "errors": len(results) - len(served) - len(shed),
        "served_per_sec": round(len(served) / seconds, 1),
        "p50_ms": round(_percentile(served, 0.50) * 1000, 1),
        "p99_ms": round(_percentile(served, 0.99) * 1000, 1),
        "shed_p99_ms": round(_percentile(shed, 0.99) * 1000, 1) if shed else None,
    }


def _serve(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn with fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "insignia.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--backlog",
            "64",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    return server


def _ready(port: int, body: bytes) -> None:
    for _ in range(150):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("POST", "/api/v1/verify", body, {"Content-Type": "application/json"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def _get(url: str) -> None:
    """One GET on the loopback server (the status list is built on its first request)."""
    parts = url.split("/", 3)
    connection = http.client.HTTPConnection(parts[2], timeout=30)
    connection.request("GET", "/" + parts[3])
    connection.getresponse().read()


def compare(args: argparse.Namespace, credentials: list[str], files: list[Path]) -> None:
    """Ours and Digital Bazaar's whole verifiers, side by side, ``--rounds`` times."""
    per_sec: dict[tuple[str, str], list[float]] = {}
    for round_ in range(args.rounds):
        for cold in (True, False):
            for path in ("stored", "full"):
                line = bench_pipeline(credentials, args.n, path=path, cold=cold)
                per_sec.setdefault((f"insignia.{path}", line["cache"]), []).append(line["per_sec"])
                print(json.dumps({**line, "round": round_ + 1}), flush=True)
            mode = "cold" if cold else "warm"
            node = bench_node(files, args.node_n, mode) if not args.skip_node else None
            if node is None:
                continue
            per_sec.setdefault(("node", mode), []).append(node["per_sec"])
            print(json.dumps({**node, "round": round_ + 1}), flush=True)
    if ("node", "warm") not in per_sec:
        note = "skipped" if args.skip_node else "Node stack not installed (make interop-deps)"
        print(json.dumps({"bench": "verify.ratio", "note": note}))
        return
    for mode in ("cold", "warm"):
        theirs = round(statistics.median(per_sec[("node", mode)]), 1)
        for path in ("stored", "full"):
            ours = round(statistics.median(per_sec[(f"insignia.{path}", mode)]), 1)
            print(
                json.dumps(
                    {
                        "bench": "verify.ratio",
                        "cache": mode,
                        "path": path,
                        "insignia_per_sec": ours,
                        "node_per_sec": theirs,
                        "ratio": round(ours / theirs, 2),
                        "target": 3.0,
                        "met": ours / theirs >= 3.0,
                        "rounds": args.rounds,
                    }
                ),
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--node-n", type=int, default=300)
    parser.add_argument("--credentials", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--overload", type=float, default=400)
    parser.add_argument("--overload-seconds", type=float, default=10)
    parser.add_argument("--in-flight", type=int, default=None)
    parser.add_argument("--in-flight-per-client", type=int, default=None)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--cache-url", default="")
    parser.add_argument("--skip-node", action="store_true")
    parser.add_argument("--skip-api", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="insignia-bench-verify-"))
    port = _free_port()
    env = {
        "INSIGNIA_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "insignia.settings",
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir}/bench.sqlite3",
        "INSIGNIA_BASE_URL": f"http://127.0.0.1:{port}",
        "INSIGNIA_VERIFY_RATE_LIMIT": "100000000",
        # Persistent connections, as production has them (a PostgreSQL backend forked for
        # every request would be the figure otherwise).
        "DATABASE_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }
    if args.in_flight is not None:
        env["INSIGNIA_VERIFY_MAX_IN_FLIGHT"] = str(args.in_flight)
    if args.in_flight_per_client is not None:
        env["INSIGNIA_VERIFY_MAX_IN_FLIGHT_PER_CLIENT"] = str(args.in_flight_per_client)
    if args.cache_url:
        env["CACHE_URL"] = args.cache_url
    credentials = setup(env, args.credentials)
    files = []
    for index, text in enumerate(credentials):
        file = workdir / f"credential-{index}.json"
        file.write_text(text)
        files.append(file)
    from django.conf import settings

    print(
        json.dumps(
            {
                "bench": "verify.machine",
                **_machine(),
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
                "in_flight": settings.INSIGNIA_VERIFY_MAX_IN_FLIGHT,
                "in_flight_per_client": settings.INSIGNIA_VERIFY_MAX_IN_FLIGHT_PER_CLIENT,
            }
        ),
        flush=True,
    )
    server = _serve(port, env)
    try:
        body = json.dumps({"credential": json.loads(credentials[0])}).encode()
        _ready(port, body)
        status = json.loads(credentials[0]).get("credentialStatus")
        for entry in status if isinstance(status, list) else [status] if status else []:
            _get(entry["statusListCredential"])
        compare(args, credentials, files)
        if args.skip_api:
            return
        load(port, body, 20, 2)  # warm up both workers
        steady = load(port, body, args.rate, args.seconds)
        print(json.dumps({"bench": "verify.api", **steady}), flush=True)
        burst = load(port, body, args.overload, args.overload_seconds)
        print(json.dumps({"bench": "verify.api.overload", **burst}), flush=True)
        print(
            json.dumps(
                {
                    "bench": "verify.target",
                    "rate": args.rate,
                    "p99_ms_at_rate": steady["p99_ms"],
                    "shed_at_rate": steady["shed_429"],
                    "target_p99_ms": 100,
                    "met": steady["p99_ms"] <= 100
                    and steady["errors"] == 0
                    and steady["shed_429"] == 0,
                    "overload_shed_429": burst["shed_429"],
                }
            ),
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
