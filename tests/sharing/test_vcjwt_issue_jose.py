"""An independent JWT library accepts our VC-JWTs: panva/jose (npm, ``tests/vcjwt``, pinned
in its committed lock file) fetches each token and the issuer's DID document from the live
test server over loopback, takes the key the ``kid`` names and verifies the JWS as a JOSE
relying party would (EdDSA only, ``typ`` vc+jwt, ``iss`` the key's controller)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

from badges.models import Award
from issuers import services as issuer_services
from tests.badges.helpers import award, make_published
from tests.base import make_cast

pytestmark = pytest.mark.usefixtures("transactional_db")

VCJWT_DIR = Path(__file__).resolve().parent.parent / "vcjwt"


def _node() -> str:
    node = shutil.which("node")
    assert node, "Node.js 20 is required for the VC-JWT interop test"
    assert (VCJWT_DIR / "node_modules" / "jose").is_dir(), (
        "run `make interop-deps` (npm ci in tests/vcjwt) first"
    )
    return node


def _fetch_token(live_server: LiveServer, found: Award) -> str:
    url = f"{live_server.url}/credentials/{found.pk}.jwt"
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback test server
        assert response.headers["Content-Type"] == "application/vc+jwt"
        return str(response.read().decode("ascii"))


def _jose(
    live_server: LiveServer, tmp_path: Path, **tokens: str
) -> tuple[int, list[dict[str, Any]]]:
    files = []
    for name, token in tokens.items():
        path = tmp_path / f"{name}.jwt"
        path.write_text(token, encoding="ascii")
        files.append(str(path))
    completed = subprocess.run(
        [_node(), "verify.mjs", "--did-web-base-url", live_server.url, *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=VCJWT_DIR,
    )
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    assert len(lines) == len(files), completed.stderr
    return completed.returncode, lines


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_jose_verifies_our_tokens_with_the_key_from_the_live_did_document(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        lee = award(cast.awarder, make_published(cast.editor, cast.issuer), email="lee@example.com")
        before = _fetch_token(live_server, lee)
        issuer_services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)
        after = _fetch_token(live_server, lee)
        returncode, lines = _jose(live_server, tmp_path, before=before, after=after)

    assert [line.get("error") for line in lines] == [None, None]
    assert [line["kid"].rsplit("#", 1)[1] for line in lines] == ["key-1-jwk", "key-2-jwk"]
    assert {line["jti"] for line in lines} == {lee.credential["id"]}
    assert returncode == 0


def test_jose_refuses_a_changed_token_a_foreign_kid_and_an_unsigned_one(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        lee = award(cast.awarder, make_published(cast.editor, cast.issuer), email="lee@example.com")
        rival = award(
            cast.outsider,
            make_published(cast.outsider, cast.other_issuer, "rival"),
            email="r@x.org",
        )
        token = _fetch_token(live_server, lee)
        rival_kid = json.loads(
            base64.urlsafe_b64decode(_fetch_token(live_server, rival).split(".")[0] + "==")
        )["kid"]
        head, body, signature = token.split(".")
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        payload["credentialSubject"]["achievement"]["name"] = "Welding Level 5"
        changed = f"{head}.{_b64(json.dumps(payload).encode())}.{signature}"
        foreign = f"{_b64(json.dumps({**header, 'kid': rival_kid}).encode())}.{body}.{signature}"
        unsigned = f"{_b64(json.dumps({**header, 'alg': 'none'}).encode())}.{body}."
        returncode, lines = _jose(
            live_server, tmp_path, changed=changed, foreign=foreign, unsigned=unsigned
        )

    assert [line["verified"] for line in lines] == [False, False, False], lines
    assert "signature verification failed" in lines[0]["error"]
    assert "signature verification failed" in lines[1]["error"]  # the rival key
    assert "unexpected header" in lines[2]["error"]
    assert returncode == 1
