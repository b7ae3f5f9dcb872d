"""What a handler of the test LMS answers (:class:`Reply`) and the few common answers."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    status: int
    body: str | bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def payload(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


def json_reply(
    data: Any,
    status: int = 200,
    content_type: str = "application/json",
    headers: list[tuple[str, str]] | None = None,
) -> Reply:
    return Reply(status, json.dumps(data, indent=2), content_type, headers or [])


def json_error(status: int, error: str, description: str = "") -> Reply:
    body = {"error": error}
    if description:
        body["error_description"] = description
    return json_reply(body, status, headers=[("Cache-Control", "no-store")])


def redirect(location: str, status: int = 303) -> Reply:
    return Reply(status, b"", "text/plain", [("Location", location)])


def page(title: str, body: str) -> str:
    """A whole HTML page; ``title`` is text, ``body`` is HTML the caller has escaped."""
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem}"
        "form{display:inline;margin:0 .3rem 0 0}section{margin:1.5rem 0}"
        ".flash{background:#e6f4e6;padding:.5rem}.error{background:#fde8e8;padding:.5rem}"
        "</style></head>\n<body>\n" + body + "\n</body></html>\n"
    )


def error_page(status: int, title: str, reason: str) -> Reply:
    body = (
        f"<h1>{html.escape(title)}</h1>\n<p class='error' role='alert'>{html.escape(reason)}</p>"
        "\n<p><a href='/'>Back to the course</a></p>"
    )
    return Reply(status, page(title, body))
