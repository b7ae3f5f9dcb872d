"""Drill S-19: abuse of the public verifier, with a legitimate client beside it.

    .venv/bin/python bench/drill_verify_abuse.py [--duration 60] [--abuse-rate 200] [--proxies 1]

The app runs as deployed (``docker-compose.yml``): ``INSIGNIA_ENV=production``, gunicorn
``gthread`` (3 workers x 8 threads), Redis for the rate-limit counters, a fresh PostgreSQL
database (``BENCH_DATABASE_URL``, default ``insignia_bench_s19`` on 127.0.0.1, dropped and
created afresh), static files collected, a TLS-terminating proxy played by the clients
(``X-Forwarded-Proto: https``). ``bench/_drill_settings.py`` adds only a loopback "remote" test
host (``bench/_remote_host.py``, answering ``http://remote.test/…`` with one of our credentials
after 50 ms and counting every fetch), a static root in a temporary folder and a cache prefix.

With ``--proxies 1`` (the compose default ``INSIGNIA_TRUSTED_PROXIES=1``) each client's
requests carry ``X-Forwarded-For`` ending with the client's own address, as the proxy appends
it; with ``--proxies 0`` there is no proxy and each client connects from its own loopback
address (``127.0.19.x``). Every client is a ``bench/load.py`` process (open loop, latency from
the scheduled send time). In order:

1. ``s19.legit.unloaded``: the legitimate client alone, ``--legit-rate`` (2) verifications/s
   for ``--legit-seconds`` (30), alternating verify-by-URL and a baked-image upload (API).
2. ``s19.xff``: two fresh clients at once, inside one rate-limit window, ``--probe-rate`` (30)
   for ``--probe-seconds`` (6) of a verification that costs nothing (so only the limit
   decides), one with a made-up ``X-Forwarded-For`` on every request: how many verifications
   each was allowed (the spoofer must get **0** extra).
3. ``s19.abuser`` and ``s19.legit.loaded``: the abuser at ``--abuse-rate`` (200) req/s for
   ``--duration`` (60) s, rotating a spoofed ``X-Forwarded-For``, round-robin over
   verify-by-URL and upload on the API and on the ``/verify`` page; the legitimate client as in
   step 1 from 2 s in to 2 s before the end.
4. ``s19.outbound``: fetches the remote host saw during step 3, per second and at once.
5. ``s19.target``: research S-19's pass marks: 429 p99 ≤ 50 ms with ``Retry-After``; ≤ 5
   fetches/s and ≤ 16 at once to the one remote host; 0 extra quota from a spoofed header;
   legit p99 loaded ≤ 2x unloaded; 0 5xx (answers and server log).

The verify limit is ``--verify-limit`` (150 a minute, so the legitimate client's 2/s stays
inside its own quota; production's default is 60). Redis is ``BENCH_REDIS_URL`` (default
``redis://127.0.0.1:6379/1``, keys under a prefix of their own). Prints one JSON object per
line and exits 0 whatever the figures (``met`` says which marks were met). ``--serve N`` only
sets everything up and serves for N seconds, printing the app's address and request files,
for trying ``bench/load.py`` against it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _drill_stack as stack_  # noqa: E402 - after the path is set


def _client(
    proxies: int,
    host: int,
    targets: Path,
    label: str,
    rate: float,
    seconds: float,
    *,
    spoof: bool = False,
    series: float = 0,
) -> subprocess.Popen[str]:
    """One bench/load.py process for client ``host``: 10.19.0.host behind the proxy, or
    127.0.19.host on loopback without one."""
    who = (
        ["--xff-append", f"10.19.0.{host}"] if proxies else ["--local-address", f"127.0.19.{host}"]
    )
    command = [sys.executable, str(ROOT / "bench" / "load.py"), "--targets", str(targets)]
    command += ["--label", label, "--rate", str(rate), "--duration", str(seconds)]
    command += ["--timeout", "20", "--header", "X-Forwarded-Proto: https", *who]
    command += ["--xff-spoof"] if spoof else []
    command += ["--series", str(series)] if series else []
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603


def _result(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate()
    if process.returncode != 0 or not out.strip():
        raise SystemExit(f"bench/load.py failed ({process.returncode})")
    line: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return line


def _allowed(line: dict[str, Any]) -> int:
    """Verifications the limits let through: answered with a report (200, or 422 for input
    with nothing verifiable in it)."""
    return sum(v["n"] for k, v in line["by_status"].items() if k in ("200", "422"))


def _windows(started: float, seconds: float) -> int:
    """Fixed 60 s rate-limit windows that [started, started + seconds] touches."""
    return int((started + seconds) // 60) - int(started // 60) + 1


def _outbound(events: list[list[float]], start: float, end: float) -> dict[str, Any]:
    """Fetches that started in [start, end]: per second (max, mean) and the most at once."""
    chosen = [(a, b) for a, b in events if start <= a <= end]
    per_second = Counter(int(a) for a, _ in chosen)
    edges = sorted([(a, 1) for a, _ in chosen] + [(b, -1) for _, b in chosen])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return {
        "fetches": len(chosen),
        "per_sec_max": max(per_second.values(), default=0),
        "per_sec_mean": round(len(chosen) / max(end - start, 1e-9), 2),
        "max_concurrent": peak,
        "busiest_seconds": [
            [round(second - start), count] for second, count in per_second.most_common(5)
        ],
    }


def _wait_for_window(seconds: float) -> None:
    """Sleep until a probe of ``seconds`` fits inside one fixed 60 s rate-limit window and one
    10 s burst window (``verification.ratelimit.BURST_SECONDS``)."""
    while not (
        1 <= time.time() % 60 <= 60 - seconds - 3 and 0.5 <= time.time() % 10 <= 9.5 - seconds
    ):
        time.sleep(0.1)


def _emit(bench: str, line: dict[str, Any]) -> None:
    print(json.dumps({"bench": bench, **line}), flush=True)


def drill(args: argparse.Namespace, stack: stack_.Stack) -> None:
    targets, proxies = stack.targets, args.proxies
    warm = _result(_client(proxies, 9, targets["abuser"], "s19.warmup", 8, 3))
    setup = {"proxies": proxies, "workers": args.workers, "threads": args.threads}
    setup |= {"verify_limit_per_min": args.verify_limit, "cores": os.cpu_count()}
    setup |= {"load_average": os.getloadavg()[0], "warmup": warm["by_target"]}
    _emit("s19.setup", setup)
    lines: list[dict[str, Any]] = [warm]

    # 1. The legitimate client alone.
    rate, seconds = args.legit_rate, args.legit_seconds
    unloaded = _result(_client(proxies, 2, targets["legit"], "s19.legit.unloaded", rate, seconds))
    lines.append(unloaded)
    _emit("s19.legit.unloaded", unloaded)

    # 2. Spoofed X-Forwarded-For: two fresh clients at once, inside one window.
    _wait_for_window(args.probe_seconds)
    probes = [
        _client(proxies, n, targets["probe"], label, args.probe_rate, args.probe_seconds, spoof=s)
        for n, label, s in ((10, "s19.xff.plain", False), (11, "s19.xff.spoofed", True))
    ]
    plain, spoofed = (_result(p) for p in probes)
    lines += [plain, spoofed]
    xff = {"offered_each": plain["sent"], "limit": args.verify_limit}
    xff |= {"allowed_plain": _allowed(plain), "allowed_spoofed": _allowed(spoofed)}
    xff["extra_quota"] = xff["allowed_spoofed"] - xff["allowed_plain"]
    _emit("s19.xff", xff)

    # 3. The abuser, with the legitimate client beside it.
    started = time.time()
    abuser = _client(
        proxies,
        66,
        targets["abuser"],
        "s19.abuser",
        args.abuse_rate,
        args.duration,
        spoof=True,
        series=5,
    )
    time.sleep(2)
    legit_seconds = max(args.duration - 4, 5)
    legit = _client(proxies, 3, targets["legit"], "s19.legit.loaded", rate, legit_seconds, series=5)
    rss, load = 0.0, 0.0
    while abuser.poll() is None:
        rss, load = max(rss, stack.rss_mb()), max(load, os.getloadavg()[0])
        time.sleep(1)
    abused, loaded = _result(abuser), _result(legit)
    ended = time.time()
    lines += [abused, loaded]
    windows = _windows(abused["started_at"], args.duration)
    quota = args.verify_limit * windows
    extra = {"allowed": _allowed(abused), "limit_windows": windows, "quota": quota}
    _emit("s19.abuser", abused | extra | {"server_rss_mb_max": rss, "load_average_max": load})
    _emit("s19.legit.loaded", loaded)

    # 4. What the remote host saw.
    outbound = _outbound(stack.fetches(), started, ended)
    _emit("s19.outbound", {"host": stack_.REMOTE, **outbound})

    # 5. The pass marks.
    refused = abused["by_status"].get("429", {})
    answered_5xx = sum(line["errors"].get("5xx", 0) for line in lines)
    log_errors = stack.log_errors()
    ratio = (loaded["p99"] or 0) / max(unloaded["p99"] or 0, 1e-9)
    met = {
        "429_p99_le_50ms": (refused.get("p99") or 1e9) <= 50,
        "retry_after_always": abused["retry_after_share"] == 1.0,
        "outbound_le_5_per_sec": outbound["per_sec_max"] <= 5,
        "outbound_le_16_concurrent": outbound["max_concurrent"] <= 16,
        "xff_zero_extra": xff["extra_quota"] <= 0 and _allowed(abused) <= quota,
        "legit_p99_le_2x": ratio <= 2,
        "zero_5xx": answered_5xx == 0 and not any(log_errors.values()),
    }
    summary = {
        "shed_429_share": abused["shed"],
        "p99_429_ms": refused.get("p99"),
        "retry_after_share": abused["retry_after_share"],
        "abuser_answered_per_sec": abused["answered_per_sec"],
        "outbound_per_sec_max": outbound["per_sec_max"],
        "outbound_max_concurrent": outbound["max_concurrent"],
        "xff_extra_quota": xff["extra_quota"],
        "abuser_allowed": _allowed(abused),
        "abuser_quota": quota,
        "legit_p50_unloaded_ms": unloaded["p50"],
        "legit_p50_loaded_ms": loaded["p50"],
        "legit_p99_unloaded_ms": unloaded["p99"],
        "legit_p99_loaded_ms": loaded["p99"],
        "legit_ratio": round(ratio, 2),
        "legit_refused": loaded["errors"].get("4xx", 0),
        "answered_5xx": answered_5xx,
        "server_log": log_errors,
        "met": met,
    }
    _emit("s19.target", summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--abuse-rate", type=float, default=200)
    parser.add_argument("--legit-rate", type=float, default=2)
    parser.add_argument("--legit-seconds", type=float, default=30)
    parser.add_argument("--probe-rate", type=float, default=30)
    parser.add_argument("--probe-seconds", type=float, default=6)
    parser.add_argument("--verify-limit", type=int, default=150)
    parser.add_argument("--proxies", type=int, choices=(0, 1), default=1)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--remote-delay", type=float, default=0.05)
    parser.add_argument(
        "--serve", type=float, default=0, help="only start the stack and serve for N seconds"
    )
    args = parser.parse_args()
    # Stopped with SIGTERM, still stop gunicorn and the remote host (``finally`` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stack = stack_.start(
        proxies=args.proxies,
        verify_limit=args.verify_limit,
        workers=args.workers,
        threads=args.threads,
        remote_delay=args.remote_delay,
    )
    try:
        if args.serve:
            info = {"app": f"http://127.0.0.1:{stack.port}", "remote_port": stack.remote_port}
            _emit("s19.serve", info | {k: str(v) for k, v in stack.targets.items()})
            time.sleep(args.serve)
        else:
            drill(args, stack)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
