"""A real OpenID provider for the tests: panva's ``oidc-provider`` (tests/idp/oidc), started
as a Node process on 127.0.0.1 with an ephemeral port, and a person at its development
login page (``requests``), and a small proxy that changes what its token endpoint answers.

The provider's signing keys are made here and handed to it, so a test can sign an ID token
exactly as the provider would and change one thing (``ForgingProxy``).
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

NODE_DIR = Path(__file__).resolve().parents[2] / "idp" / "oidc"
SERVER = NODE_DIR / "server.mjs"
RSA_KID = "rsa-1"


def signing_keys() -> list[Key]:
    """The provider's keys: RS256 (what it signs ID tokens with by default), ES256, and
    Ed25519 under both its names (RFC 9864 "Ed25519", the older "EdDSA")."""
    return [
        RSAKey.generate_key(2048, {"kid": RSA_KID, "alg": "RS256", "use": "sig"}),
        ECKey.generate_key("P-256", {"kid": "ec-1", "alg": "ES256", "use": "sig"}),
        OKPKey.generate_key("Ed25519", {"kid": "ed-1", "alg": "EdDSA", "use": "sig"}),
        OKPKey.generate_key("Ed25519", {"kid": "ed-2", "alg": "Ed25519", "use": "sig"}),
    ]


@dataclass
class OpenIDProvider:
    """One running ``oidc-provider``: its issuer URL and the private keys it signs with."""

    process: subprocess.Popen[bytes]
    issuer: str
    port: int
    keys: list[Key]
    log: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def rsa_key(self) -> Key:
        return self.keys[0]

    def register(self, redirect_uri: str, **metadata: Any) -> tuple[str, str]:
        """A new client (OpenID Connect Dynamic Client Registration): its ID and secret."""
        answer = requests.post(
            f"{self.issuer}/reg",
            json={"redirect_uris": [redirect_uri], "response_types": ["code"], **metadata},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        return str(body["client_id"]), str(body["client_secret"])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_provider(log: Path, *, issuer: str = "") -> OpenIDProvider:
    """Start ``tests/idp/oidc/server.mjs``; fail clearly when ``npm ci`` was not run."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("The OpenID Connect tests need Node.js 20 or later on PATH.")
    if not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(
            "The test OpenID provider is not installed: run `make interop-deps` "
            "(or `npm ci` in tests/idp/oidc) first."
        )
    keys = signing_keys()
    config = {
        "registration": True,
        "jwks": {"keys": [dict(key.as_dict(private=True)) for key in keys]},
    }
    if issuer:
        config["issuer"] = issuer
    log.parent.mkdir(parents=True, exist_ok=True)
    config_file = log.with_suffix(".json")
    config_file.write_text(json.dumps(config))
    with log.open("wb") as errors:
        process = subprocess.Popen(
            [node, str(SERVER), "--config", str(config_file), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=errors,
            cwd=NODE_DIR,
        )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        pytest.fail(f"The test OpenID provider did not start: {log.read_text()[-2000:]}")
    ready = json.loads(line)
    # Keep reading its output so that it never blocks on a full pipe.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return OpenIDProvider(process, str(ready["issuer"]), int(ready["port"]), keys, log)


# --------------------------------------------------------------------------------------------
# A person at the provider's development login page
# --------------------------------------------------------------------------------------------

_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')
_PROMPT = re.compile(r'name="prompt" value="(\w+)"')


def sign_in_at_provider(
    authorization_url: str,
    login: str,
    *,
    redirect_prefix: str,
    browser: requests.Session | None = None,
    cancel: bool = False,
) -> str:
    """Follow ``authorization_url`` at the provider as a person would: sign in as ``login``
    (any password), consent, and return the URL the provider sends the browser back to
    (under ``redirect_prefix``). ``cancel`` presses the page's cancel link instead."""
    session = browser or requests.Session()
    method, url, data = "GET", authorization_url, None
    for _hop in range(20):
        answer = session.request(method, url, data=data, allow_redirects=False, timeout=10)
        if answer.is_redirect:
            location = urljoin(url, answer.headers["Location"])
            if location.startswith(redirect_prefix):
                return location
            method, url, data = "GET", location, None
            continue
        assert answer.status_code == 200, f"{answer.status_code} at {url}: {answer.text[:500]}"
        action = _ACTION.search(answer.text)
        prompt = _PROMPT.search(answer.text)
        assert action and prompt, f"no interaction form at {url}: {answer.text[:500]}"
        target = html.unescape(action.group(1))
        if cancel:
            method, url, data = "GET", target.rstrip("/") + "/abort", None
        elif prompt.group(1) == "login":
            method, url, data = "POST", target, {"prompt": "login", "login": login, "password": "x"}
        else:
            method, url, data = "POST", target, {"prompt": "consent"}
    raise AssertionError("the provider never sent the browser back")


# --------------------------------------------------------------------------------------------
# A proxy in front of the token (or UserInfo) endpoint that changes its answer
# --------------------------------------------------------------------------------------------

Rewrite = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass
class ForgingProxy:
    """Passes every POST to ``upstream`` and hands each successful JSON answer to
    ``rewrite(path, answer)`` before our side sees it."""

    upstream: str
    rewrite: Rewrite
    server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> ForgingProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("authorization", "content-type", "accept")
                }
                answer = requests.post(
                    proxy.upstream + self.path, data=body, headers=headers, timeout=10
                )
                content = answer.content
                if answer.status_code == 200:
                    content = json.dumps(proxy.rewrite(self.path, answer.json())).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", ""))
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def resign(
    id_token: str,
    key: Key,
    *,
    header: dict[str, Any] | None = None,
    **changes: Any,
) -> str:
    """``id_token`` with ``changes`` to its claims (``None`` removes one), signed by ``key``."""
    payload = id_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    protected = {"alg": "RS256", "kid": RSA_KID, **(header or {})}
    return jwt.encode(protected, claims, key, algorithms=[protected["alg"]])


def now() -> int:
    return int(time.time())
