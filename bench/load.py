"""Open-loop HTTP load at a fixed arrival rate: one JSON line of what came back.

    .venv/bin/python bench/load.py --url http://127.0.0.1:8000/healthz --rate 300 --duration 10
    .venv/bin/python bench/load.py --url URL --method POST --body @body.json --rate 50 ...
    .venv/bin/python bench/load.py --targets targets.jsonl --rate 200 --xff-spoof ...

Request *i* is due at ``t0 + i / rate`` whatever happened to the earlier ones (open loop), and
its latency is counted from that due time, not from when it was written: a server (or a
generator) that falls behind shows up in the percentiles instead of slowing the offered load
down (no coordinated omission). Requests wait for one of ``--connections`` keep-alive
connections per host; that wait counts too. Timeouts count at the time they took.

Targets are ``--url`` (repeatable; ``--method`` and ``--body``, ``@file`` for a file, apply to
them) or ``--targets FILE``, one per line: ``URL``, ``METHOD URL [BODY|@file]``, or a JSON
object ``{"method", "url", "headers", "body" | "body_file", "name"}``. Requests go round-robin.
``--xff-spoof`` sends a different made-up ``X-Forwarded-For`` each time; ``--xff-append ADDR``
plays a trusted reverse proxy that appends the client's address ``ADDR`` to it;
``--local-address`` picks the source address (e.g. ``127.0.0.2``: another client on loopback).

The client is asyncio streams speaking HTTP/1.1 (keep-alive, Content-Length or chunked): no
third-party HTTP library, and cheap enough to hold several hundred requests a second from one
process on a 2-core machine. The line printed has ``label, rate, duration, sent, ok, errors``
(by status class, ``timeout``, ``transport``), ``shed`` (share answered 429 or 503), ``p50,
p90, p99, max`` (ms), ``achieved_rate`` (requests written per second) and more
(:func:`summarise`). :func:`run` is used by the drills (``bench/drill_verify_abuse.py``).

About 450 lines: the HTTP client is in it, so the tool needs nothing beyond the standard library.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import ssl
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HEAD_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Target:
    """One request to send: built once, written many times."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    name: str = ""

    @property
    def origin(self) -> tuple[str, str, int]:
        parts = urlsplit(self.url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {self.url}")
        return scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80)

    def head(self, extra: Sequence[tuple[str, str]] = ()) -> bytes:
        parts = urlsplit(self.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"{self.method} {path} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{k}: {v}" for k, v in (*self.headers, *extra)]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class Sample:
    """What happened to one request. ``status`` 0: no answer (see ``error``)."""

    index: int
    name: str
    lag: float  # seconds between its due time and the moment it was written
    status: int = 0
    latency: float = 0.0  # seconds from its due time to the end of the answer
    error: str = ""
    retry_after: bool = False


@dataclass
class _Pool:
    """Keep-alive connections to one origin, at most ``size`` open at once."""

    scheme: str
    host: str
    port: int
    size: int
    local_address: str | None
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = field(default_factory=list)
    gate: asyncio.Semaphore | None = None

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        context = ssl.create_default_context() if self.scheme == "https" else None
        local = (self.local_address, 0) if self.local_address else None
        return await asyncio.open_connection(
            self.host, self.port, ssl=context, local_addr=local, limit=HEAD_LIMIT
        )


async def _read_answer(reader: asyncio.StreamReader, method: str) -> tuple[int, dict[str, str]]:
    """Read one response; return its status and (lower-cased) headers. The body is read and
    dropped. Raises ``ConnectionError`` if the connection ended before a status line."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        raise ConnectionError("closed before an answer") from error
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        pass
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:
        await reader.read()
        headers["connection"] = "close"
    if version == "HTTP/1.0":
        headers.setdefault("connection", "close")
    return status, headers


async def _exchange(pool: _Pool, payload: bytes, method: str) -> tuple[int, dict[str, str]]:
    """Send on an idle connection (once more on a fresh one if it had been closed under us)."""
    assert pool.gate is not None
    async with pool.gate:
        for attempt in (0, 1):
            reused = bool(pool.idle) and attempt == 0
            reader, writer = pool.idle.pop() if reused else await pool.connect()
            try:
                writer.write(payload)
                await writer.drain()
                status, headers = await _read_answer(reader, method)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                if reused:
                    continue  # the server closed an idle keep-alive connection: retry once
                raise
            except BaseException:
                writer.close()  # timed out or cancelled mid-answer: never reuse it
                raise
            if headers.get("connection", "").lower() == "close":
                writer.close()
            else:
                pool.idle.append((reader, writer))
            return status, headers
    raise ConnectionError("unreachable")


def spoofed_xff(rng: random.Random) -> str:
    """A made-up ``X-Forwarded-For``: one to three public-looking addresses."""
    hops = [
        f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for _ in range(rng.randint(1, 3))
    ]
    return ", ".join(hops)


def forwarding(
    spoof: bool, append: str | None, seed: int = 19
) -> Callable[[int], list[tuple[str, str]]] | None:
    """Per-request ``X-Forwarded-For``: spoofed by the client and/or appended by a proxy."""
    if not spoof and not append:
        return None
    rng = random.Random(seed)  # noqa: S311 - made-up addresses, not secrets

    def headers(_index: int) -> list[tuple[str, str]]:
        hops = [spoofed_xff(rng)] if spoof else []
        if append:
            hops.append(append)
        return [("X-Forwarded-For", ", ".join(hops))]

    return headers


async def run(
    targets: Sequence[Target],
    rate: float,
    duration: float,
    *,
    timeout: float = 10.0,
    connections: int = 200,
    local_address: str | None = None,
    extra_headers: Callable[[int], list[tuple[str, str]]] | None = None,
) -> tuple[list[Sample], float]:
    """Offer ``rate`` requests/s for ``duration`` s, round-robin over ``targets``; return one
    :class:`Sample` per request and the seconds from the first due time to the last answer."""
    loop = asyncio.get_running_loop()
    pools: dict[tuple[str, str, int], _Pool] = {}
    for target in targets:
        if target.origin not in pools:
            scheme, host, port = target.origin
            pool = _Pool(scheme, host, port, connections, local_address)
            pool.gate = asyncio.Semaphore(connections)
            pools[target.origin] = pool
    heads = [target.head() for target in targets]
    samples: list[Sample] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: int, due: float) -> None:
        target = targets[index % len(targets)]
        extra = extra_headers(index) if extra_headers else []
        head = target.head(extra) if extra else heads[index % len(targets)]
        sample = Sample(index, target.name, loop.time() - due)
        samples.append(sample)
        try:
            async with asyncio.timeout(timeout):
                status, headers = await _exchange(
                    pools[target.origin], head + target.body, target.method
                )
            sample.status = status
            sample.retry_after = "retry-after" in headers
        except TimeoutError:
            sample.error = "timeout"
        except (OSError, ValueError, asyncio.IncompleteReadError) as error:
            sample.error = type(error).__name__
        sample.latency = loop.time() - due

    total = int(rate * duration)
    t0 = loop.time() + 0.05
    for index in range(total):
        due = t0 + index / rate
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        task = loop.create_task(one(index, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    elapsed = loop.time() - t0
    for pool in pools.values():
        for _reader, writer in pool.idle:
            writer.close()
    return samples, elapsed


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile, or ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def summarise(
    samples: Sequence[Sample],
    *,
    label: str,
    rate: float,
    duration: float,
    elapsed: float,
    step: float = 0.0,
) -> dict[str, Any]:
    """The JSON line: counts, error classes, shed share and latency percentiles (ms); with
    ``step``, also ``series``: ``[second due, sent, shed, p50, p99]`` per ``step`` seconds."""
    sent = len(samples)
    answered = [s for s in samples if s.status]
    timed = [s.latency for s in samples if s.status or s.error == "timeout"]
    errors: Counter[str] = Counter()
    transport: Counter[str] = Counter()
    for s in samples:
        if not s.status:
            errors["timeout" if s.error == "timeout" else "transport"] += 1
            if s.error != "timeout":
                transport[s.error] += 1
        elif not 200 <= s.status < 300:
            errors[f"{s.status // 100}xx"] += 1
    shed = [s for s in answered if s.status in (429, 503)]
    last_write = max((s.index / rate + s.lag for s in samples), default=0.0)
    by_status: dict[str, dict[str, Any]] = {}
    for status in sorted({s.status for s in answered}):
        latencies = [s.latency for s in answered if s.status == status]
        by_status[str(status)] = {
            "n": len(latencies),
            "p50": _ms(percentile(latencies, 0.5)),
            "p99": _ms(percentile(latencies, 0.99)),
            "max": _ms(max(latencies)),
        }
    line: dict[str, Any] = {
        "label": label,
        "rate": rate,
        "duration": duration,
        "sent": sent,
        "ok": sum(1 for s in answered if 200 <= s.status < 300),
        "errors": dict(sorted(errors.items())),
        "shed": round(len(shed) / sent, 4) if sent else 0.0,
        "p50": _ms(percentile(timed, 0.5)),
        "p90": _ms(percentile(timed, 0.9)),
        "p99": _ms(percentile(timed, 0.99)),
        "max": _ms(max(timed, default=0.0)) if timed else None,
        "achieved_rate": round(sent / max(duration, last_write + 1 / rate), 1) if sent else 0.0,
        "answered_per_sec": round(len(answered) / elapsed, 1) if elapsed > 0 else 0.0,
        "send_lag_p99": _ms(percentile([s.lag for s in samples], 0.99)),
        "retry_after_share": round(sum(s.retry_after for s in shed) / len(shed), 4)
        if shed
        else None,
        "by_status": by_status,
    }
    if transport:
        line["transport_errors"] = dict(transport)
    if step > 0:
        buckets: dict[int, list[Sample]] = {}
        for s in samples:
            buckets.setdefault(int(s.index / rate // step), []).append(s)
        line["series"] = [
            [
                round(bucket * step, 1),
                len(group),
                sum(1 for s in group if s.status in (429, 503)),
                _ms(percentile([s.latency for s in group if s.status], 0.5)),
                _ms(percentile([s.latency for s in group if s.status], 0.99)),
            ]
            for bucket, group in sorted(buckets.items())
        ]
    names = sorted({s.name for s in samples if s.name})
    if len(names) > 1:
        line["by_target"] = {
            name: {
                "sent": sum(1 for s in samples if s.name == name),
                "statuses": dict(
                    sorted(Counter(str(s.status) for s in samples if s.name == name).items())
                ),
            }
            for name in names
        }
    return line


def _body(text: str) -> bytes:
    return Path(text[1:]).read_bytes() if text.startswith("@") else text.encode("utf-8")


def _headers(items: Sequence[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in items:
        name, sep, value = item.partition(":")
        if not sep:
            raise SystemExit(f"--header {item!r}: expected 'Name: value'")
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


def read_targets(path: Path, headers: tuple[tuple[str, str], ...]) -> list[Target]:
    """Targets from a file (see the module's docstring for the line forms)."""
    targets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            spec = json.loads(line)
            body = spec.get("body", "")
            raw = Path(spec["body_file"]).read_bytes() if "body_file" in spec else body.encode()
            own = tuple((str(k), str(v)) for k, v in dict(spec.get("headers", {})).items())
            targets.append(
                Target(
                    str(spec.get("method", "GET")).upper(),
                    str(spec["url"]),
                    headers + own,
                    raw,
                    str(spec.get("name", "")),
                )
            )
            continue
        words = line.split(None, 2)
        if len(words) == 1:
            targets.append(Target("GET", words[0], headers))
        else:
            body = _body(words[2]) if len(words) == 3 else b""
            targets.append(Target(words[0].upper(), words[1], headers, body))
    return targets


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", action="append", default=[], help="repeatable")
    parser.add_argument("--targets", type=Path, help="a file of targets, one per line")
    parser.add_argument("--method", default="GET", help="for --url targets")
    parser.add_argument("--body", default="", help="for --url targets; @file reads a file")
    parser.add_argument("--content-type", default="application/json", help="with --body")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--label", default="load")
    parser.add_argument("--connections", type=int, default=200, help="per host")
    parser.add_argument("--local-address", default=None, help="source address to connect from")
    parser.add_argument("--xff-spoof", action="store_true", help="made-up X-Forwarded-For")
    parser.add_argument("--xff-append", default=None, help="act as a proxy for client ADDR")
    parser.add_argument("--series", type=float, default=0, help="also per STEP seconds")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0:
        parser.error("--rate and --duration must be positive")

    headers = _headers(args.header)
    targets = read_targets(args.targets, headers) if args.targets else []
    body = _body(args.body) if args.body else b""
    own = (("Content-Type", args.content_type),) if body else ()
    targets += [Target(args.method.upper(), url, headers + own, body) for url in args.url]
    if not targets:
        parser.error("give --url or --targets")
    started = time.time()
    samples, elapsed = asyncio.run(
        run(
            targets,
            args.rate,
            args.duration,
            timeout=args.timeout,
            connections=args.connections,
            local_address=args.local_address,
            extra_headers=forwarding(args.xff_spoof, args.xff_append),
        )
    )
    line = summarise(
        samples,
        label=args.label,
        rate=args.rate,
        duration=args.duration,
        elapsed=elapsed,
        step=args.series,
    )
    line["started_at"] = round(started, 3)
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
