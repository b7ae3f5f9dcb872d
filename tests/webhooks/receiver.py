"""A webhook receiver on loopback, as a customer would write one: it reads each POST and
checks it with the reference Standard Webhooks library (``standardwebhooks``) before it
answers. Tests tell it what to answer: a status, or to hold the request open."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    """One request as it arrived, and whether its signature checked out."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    problem: str = ""

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


@dataclass
class Receiver:
    """``secrets``: the receiver accepts a message signed with any of them (a customer's
    receiver knows one secret; tests of rotation give it the old one)."""

    secrets: list[str] = field(default_factory=list)
    status: int = 200
    received: list[Received] = field(default_factory=list)
    # While set, requests are held open (read, then no answer) until it is cleared.
    holding: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.server: ThreadingHTTPServer | None = None

    def start(self, port: int = 0) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(receiver.check(self.path, headers, body))
                receiver.arrived.set()
                if receiver.holding.is_set():
                    receiver.release.wait(30)
                    return
                # As a real receiver should: a message that does not verify is refused.
                status = receiver.status if receiver.received[-1].verified else 401
                answer = json.dumps({"ok": status < 300}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def check(self, path: str, headers: dict[str, str], body: bytes) -> Received:
        problems = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError as error:
                problems.append(str(error))
            else:
                return Received(path, headers, body, verified=True)
        return Received(path, headers, body, verified=False, problem="; ".join(problems))

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Close the socket: connections are refused from now on."""
        if self.server is not None:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.received if r.json["type"] == event_type]
