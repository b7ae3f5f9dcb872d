"""Start the test LMS from a test, and talk to its control API.

:func:`start_lms` runs ``python -m tests.lms.platform --port 0`` from the repository root,
with its output in ``log_path``, and waits (up to 20 s) for its ``LMS READY <url>`` line. The
:class:`Lms` it returns knows the base URL and wraps the ``/control/...`` endpoints; a call
the LMS refuses raises :class:`LmsError` with the LMS's answer.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(rb"LMS READY (http://127\.0\.0\.1:\d+)")
STARTUP_SECONDS = 20


class LmsError(RuntimeError):
    pass


@dataclass
class Lms:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def issuer(self) -> str:
        return self.base_url

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def _call(self, method: str, path: str, json: Any = None, **params: str) -> Any:
        response = requests.request(
            method, self.url(path), json=json, params=params or None, timeout=10
        )
        if not response.ok:
            raise LmsError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def register_tool(
        self,
        name: str,
        oidc_login_url: str,
        launch_url: str,
        jwks_url: str,
        deep_link_url: str | None = None,
        client_id: str | None = None,
        deployment_id: str | None = None,
    ) -> dict[str, Any]:
        """Register a tool; the answer has ``client_id``, ``deployment_id`` and the platform's
        ``issuer``, ``auth_url``, ``token_url`` and ``jwks_url``."""
        data = {
            "name": name,
            "oidc_login_url": oidc_login_url,
            "launch_url": launch_url,
            "jwks_url": jwks_url,
            "deep_link_url": deep_link_url,
            "client_id": client_id,
            "deployment_id": deployment_id,
        }
        body = {key: value for key, value in data.items() if value is not None}
        answer: dict[str, Any] = self._call("POST", "/control/tools", body)
        return answer

    def tools(self) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = self._call("GET", "/control/tools")
        return tools

    def set_grade(self, line_item: str, user: str, score: float) -> dict[str, Any]:
        """Grade ``user`` in a line item (by id or label), as the gradebook form does."""
        data = {"line_item": line_item, "user": user, "score": score}
        result: dict[str, Any] = self._call("POST", "/control/grades", data)
        return result

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self._call("GET", "/control/state")
        return state

    def last_launch(self, user: str) -> dict[str, Any]:
        """The last launch form posted for ``user``: id_token, state, redirect_uri (and tool,
        link, tamper)."""
        launch: dict[str, Any] = self._call("GET", "/control/last-launch", user=user)
        return launch

    def launch_url(self, client_id: str, user: str, link: str, tamper: str | None = None) -> str:
        """The ``/launch`` URL a browser opens (``link`` is a resource link id or "deep-link")."""
        params = {"tool": client_id, "user": user, "link": link}
        if tamper:
            params["tamper"] = tamper
        return self.url("/launch?" + urlencode(params))

    def set_email(self, user: str, email: str) -> dict[str, Any]:
        changed: dict[str, Any] = self._call("POST", f"/control/users/{user}", {"email": email})
        return changed

    def set_member(self, user: str, action: str = "add", **fields: str) -> list[str]:
        """Add (a new user needs ``name``) or remove a course member; the new roster."""
        answer = self._call("POST", "/control/members", {"user": user, "action": action, **fields})
        members: list[str] = answer["members"]
        return members

    def registration_token(self) -> dict[str, str]:
        """A one-time dynamic-registration token (with ``openid_configuration``, ``session``)."""
        token: dict[str, str] = self._call("POST", "/control/registration-token")
        return token

    def registration_page_url(self, tool_registration_url: str) -> str:
        return self.url("/admin/register?" + urlencode({"url": tool_registration_url}))


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start_lms(log_path: Path, state_path: Path | None = None) -> Lms:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "tests.lms.platform", "--port", "0"]
    if state_path is not None:
        command += ["--state", str(state_path)]
    start = log_path.stat().st_size if log_path.exists() else 0
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        with log_path.open("rb") as log:
            log.seek(start)
            found = READY.search(log.read())
        if found:
            return Lms(found.group(1).decode("ascii"), process, log_path)
        if process.poll() is not None:
            raise LmsError(f"The test LMS exited ({process.returncode}):\n{_tail(log_path)}")
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=5)
    raise LmsError(f"The test LMS did not start in {STARTUP_SECONDS} s:\n{_tail(log_path)}")
