"""``verification.fetcher.post_form``: the token endpoint's POST goes through the same guard as
every other request, sends a proper form, and refuses an answer too big to read."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from pytest_django.fixtures import Settings

from verification import fetcher


class _Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = repr((self.headers["Content-Type"], parse_qs(body.decode()))).encode()
        if self.path == "/huge":
            answer = b"x" * (fetcher.JSON_MAX_BYTES + 1)
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echo(settings: Settings) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.INSIGNIA_FETCH_ALLOWLIST = {"idp.uni.test": f"127.0.0.1:{server.server_address[1]}"}
    yield "https://idp.uni.test"
    server.shutdown()
    server.server_close()


def test_fields_are_sent_form_encoded(echo: str) -> None:
    response = fetcher.post_form(
        f"{echo}/token", {"code": "a b&c=d", "redirect_uri": "https://x.test/?q=1"}, {}
    )

    assert response.status == 200
    assert response.body.decode() == repr(
        (
            "application/x-www-form-urlencoded",
            {"code": ["a b&c=d"], "redirect_uri": ["https://x.test/?q=1"]},
        )
    )


def test_an_answer_too_big_to_read_is_refused(echo: str) -> None:
    with pytest.raises(fetcher.TooLarge):
        fetcher.post_form(f"{echo}/huge", {"code": "x"}, {})


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8091/token", "https://localhost/token", "https://10.0.0.8/token"]
)
def test_internal_addresses_are_refused(settings: Settings, url: str) -> None:
    settings.INSIGNIA_FETCH_ALLOWLIST = {}

    with pytest.raises(fetcher.BlockedURL):
        fetcher.post_form(url, {"code": "x"}, {})
