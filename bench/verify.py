"""Benchmark: verifying an own-issuer credential, in process and through the API under load.

    .venv/bin/python bench/verify.py [--n 500] [--rate 100] [--seconds 20] [--overload 400]

1. ``pipeline``: the verification pipeline in this process, N times, on one own-issuer OB 3.0
   credential (keys from the database, contexts bundled): per second, p50, p99.
2. ``api``: ``POST /api/v1/verify`` served by gunicorn (gthread, 2 workers x 8 threads, at most
   ``--in-flight`` verifications per worker, the rest shed with 429) in a second process on
   loopback, driven open-loop at ``--rate`` requests/s (latency is measured from each request's
   scheduled start, so queueing shows); then at ``--overload`` req/s to show shedding.

Target (DESIGN.md §10, research S-20): p99 ≤ 250 ms at 100 req/s; the excess shed as 429, not
queued. Uses a throw-away SQLite database under a temporary directory. Prints one JSON object
per line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
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


def setup(env: dict[str, str]) -> str:
    """Migrate a fresh database and award one badge; return its credential JSON."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tests.badges.helpers import award, make_published
    from tests.base import make_cast

    cast = make_cast()
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    return given.credential_json


def bench_pipeline(credential_json: str, n: int) -> dict[str, Any]:
    from verification import pipeline

    request = pipeline.VerifyRequest(text=credential_json)
    assert pipeline.verify(request).is_valid
    timings = []
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        pipeline.verify(request)
        timings.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return {
        "bench": "verify.pipeline",
        "n": n,
        "per_sec": round(n / elapsed, 1),
        "p50_ms": round(_percentile(timings, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(timings, 0.99) * 1000, 2),
    }


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--overload", type=float, default=400)
    parser.add_argument("--overload-seconds", type=float, default=10)
    parser.add_argument("--in-flight", type=int, default=2)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="insignia-bench-verify-")
    port = _free_port()
    env = {
        "INSIGNIA_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "insignia.settings",
        "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
        "INSIGNIA_BASE_URL": f"http://127.0.0.1:{port}",
        "INSIGNIA_VERIFY_RATE_LIMIT": "100000000",
        "INSIGNIA_VERIFY_MAX_IN_FLIGHT": str(args.in_flight),
        "LOG_LEVEL": "WARNING",
    }
    credential_json = setup(env)
    print(json.dumps({"bench": "verify.machine", **_machine()}), flush=True)
    print(json.dumps(bench_pipeline(credential_json, args.n)), flush=True)

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
    try:
        body = json.dumps({"credential": json.loads(credential_json)}).encode()
        for _ in range(100):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request(
                    "POST", "/api/v1/verify", body, {"Content-Type": "application/json"}
                )
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        load(port, body, 20, 2)  # warm up both workers
        steady = load(port, body, args.rate, args.seconds)
        print(json.dumps({"bench": "verify.api", **steady}), flush=True)
        burst = load(port, body, args.overload, args.overload_seconds)
        print(json.dumps({"bench": "verify.api.overload", **burst}), flush=True)
        print(
            json.dumps(
                {
                    "bench": "verify.target",
                    "p99_ms_at_rate": steady["p99_ms"],
                    "target_p99_ms": 250,
                    "met": steady["p99_ms"] <= 250 and steady["errors"] == 0,
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
