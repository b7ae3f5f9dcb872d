"""pylti1p3's HTTP goes through the safe fetcher: a platform's keyset or token URL cannot
point Insignia at the internal network, and a bearer token never follows a redirect."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from pytest_django.fixtures import Settings

from lti import transport

SEEN: list[tuple[str, str, str]] = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        SEEN.append(("GET", self.path, self.headers.get("Authorization", "")))
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.end_headers()
            return
        body = b'{"keys": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        SEEN.append(("POST", self.path, self.rfile.read(length).decode()))
        body = b'{"access_token": "t", "expires_in": 60}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def lms(settings: Settings) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.INSIGNIA_FETCH_ALLOWLIST = {"lms.test": f"127.0.0.1:{server.server_address[1]}"}
    SEEN.clear()
    yield "http://lms.test"
    server.shutdown()


def test_requests_reach_an_allowed_platform_with_their_headers_and_body(lms: str) -> None:
    session = transport.session()

    got = session.get(f"{lms}/jwks", headers={"Authorization": "Bearer abc"})
    posted = session.post(f"{lms}/token", data={"grant_type": "client_credentials"})

    assert got.json() == {"keys": []}
    assert posted.json()["access_token"] == "t"
    assert SEEN == [
        ("GET", "/jwks", "Bearer abc"),
        ("POST", "/token", "grant_type=client_credentials"),
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://10.0.0.1/jwks",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "http://lms.test:8080/jwks",
    ],
)
def test_internal_or_odd_addresses_are_refused(url: str, settings: Settings) -> None:
    settings.INSIGNIA_FETCH_ALLOWLIST = {}
    with pytest.raises(requests.RequestException):
        transport.session().get(url)


def test_a_redirect_is_returned_not_followed(lms: str) -> None:
    answer = transport.session().get(f"{lms}/moved", headers={"Authorization": "Bearer abc"})

    assert answer.status_code == 302
    assert [path for _method, path, _auth in SEEN] == ["/moved"]
