"""Loopback HTTP servers the verifier tests start (the only network they use).

A :class:`FakeWeb` answers for several pretend hosts at once: routes are keyed by
``(host, path)``, so ``https://issuer.example/...`` in a credential is served from 127.0.0.1
once the test maps ``issuer.example`` to it in ``INSIGNIA_FETCH_ALLOWLIST``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    # Optional behaviour instead of a fixed body (tarpits, endless bodies).
    stream: Callable[[BaseHTTPRequestHandler], None] | None = None


class FakeWeb:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str]] = []
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                web.requests.append((host, self.path))
                route = web.routes.get((host, self.path))
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.stream is not None:
                    route.stream(self)
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(route.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def json(self, url: str, document: Any, status: int = 200) -> None:
        self.add(url, Route(status, json.dumps(document).encode()))

    def add(self, url: str, route: Route) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.routes[((parts.hostname or "").lower(), path or "/")] = route

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def tarpit(seconds: float) -> Callable[[BaseHTTPRequestHandler], None]:
    """Send headers, then one byte per 0.2 s for ``seconds``."""

    def run(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        until = time.monotonic() + seconds
        try:
            while time.monotonic() < until:
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.2)
        except OSError:
            return

    return run


def endless(chunk: bytes = b"x" * 65536) -> Callable[[BaseHTTPRequestHandler], None]:
    """A body that never ends and has no Content-Length."""

    def run(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        try:
            for _ in range(10_000):
                handler.wfile.write(chunk)
        except OSError:
            return

    return run
