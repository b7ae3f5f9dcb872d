"""Cross-check with the Digital Bazaar stack: Node verifies what openbadges signs, and back.

Self-contained: a loopback ``http.server`` thread serves the issuer's did:web document; the
Node scripts load contexts from ``openbadges/contexts`` and fetch nothing else. Needs
``npm ci --offline`` (or ``npm ci``) in ``tests/interop`` once — see its README.md.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openbadges import dataintegrity, didweb, multikey
from tests.openbadges.helpers import NOW, make_achievement, make_credential, make_issuer

INTEROP_DIR = Path(__file__).resolve().parent
EDGE_CASES = {
    "control-characters": "tab\there\x01\x07\x08\x0b\x0c\x1b\x1f\x7f and CR\r LF\n end",
    "quotes-and-backslashes": "She said \"done\" \\ C:\\path\\n 'single'",
    "cjk": "数据素养微证书（第五级）",
    "right-to-left": "شهادة مصغرة — תעודה",
    "emoji": "🎓👩🏽‍💻✨",
    "cdata-end": "]]> <![CDATA[ <script>alert(1)</script> &amp;",
}


@dataclass
class DidWebIssuer:
    did: str
    key: Ed25519PrivateKey
    base_url: str


def node_bin() -> str:
    node = shutil.which("node")
    assert node, "Node.js 20 is required for the interop tests"
    assert (INTEROP_DIR / "node_modules" / "@digitalbazaar" / "vc").is_dir(), (
        "run `npm ci --offline` in tests/interop first (see tests/interop/README.md)"
    )
    return node


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[DidWebIssuer]:
    """An issuer whose did:web document is served by a loopback HTTP server in a thread."""
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        did = didweb.did_web(base_url, "issuers", "acme")
        key = Ed25519PrivateKey.generate()
        document = didweb.did_document(did, [didweb.VerificationKey("key-1", key.public_key())])
        (root / "issuers" / "acme").mkdir(parents=True)
        (root / "issuers" / "acme" / "did.json").write_text(json.dumps(document))
        yield DidWebIssuer(did=did, key=key, base_url=base_url)
    finally:
        server.shutdown()
        server.server_close()


def run_verifier(*files: Path) -> tuple[int, list[dict[str, Any]]]:
    completed = subprocess.run(
        [node_bin(), str(INTEROP_DIR / "verify.mjs"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=INTEROP_DIR,
    )
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    assert len(lines) == len(files), completed.stderr
    return completed.returncode, lines


def sign_edge_case(issuer: DidWebIssuer, text: str) -> dict[str, Any]:
    credential = make_credential(
        issuer=make_issuer(id=issuer.did, name=f"Issuer {text}"),
        achievement=make_achievement(name=text, description=text, tags=(text, "plain")),
        narrative=text,
        description=text,
    )
    return dataintegrity.sign(
        credential, private_key=issuer.key, verification_method=f"{issuer.did}#key-1", created=NOW
    )


def test_node_verifies_edge_case_credentials_signed_by_openbadges(
    issuer: DidWebIssuer, tmp_path: Path
) -> None:
    files = []
    for name, text in EDGE_CASES.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(sign_edge_case(issuer, text), ensure_ascii=False), "utf-8")
        files.append(path)
    returncode, lines = run_verifier(*files)
    assert [line.get("error") for line in lines] == [None] * len(files)
    assert all(line["verified"] for line in lines)
    assert returncode == 0


def test_node_rejects_a_tampered_credential(issuer: DidWebIssuer, tmp_path: Path) -> None:
    good = sign_edge_case(issuer, EDGE_CASES["control-characters"])
    tampered = json.loads(json.dumps(good))
    tampered["credentialSubject"]["narrative"] = good["credentialSubject"]["narrative"] + " "
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    returncode, lines = run_verifier(tmp_path / "good.json", tmp_path / "tampered.json")
    assert [line["verified"] for line in lines] == [True, False]
    assert "signature" in lines[1]["error"].lower()
    assert returncode == 1


def test_node_verifies_a_did_key_credential(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    did = multikey.did_key(key.public_key())
    credential = make_credential(issuer=make_issuer(id=did))
    signed = dataintegrity.sign(
        credential,
        private_key=key,
        verification_method=multikey.did_key_verification_method(key.public_key()),
        created=NOW,
    )
    (tmp_path / "did-key.json").write_text(json.dumps(signed))
    returncode, lines = run_verifier(tmp_path / "did-key.json")
    assert lines[0]["verified"], lines[0]
    assert returncode == 0


def test_openbadges_verifies_what_the_digital_bazaar_stack_signs(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    did = multikey.did_key(key.public_key())
    unsigned = make_credential(
        issuer=make_issuer(id=did), narrative=EDGE_CASES["control-characters"]
    )
    (tmp_path / "unsigned.json").write_text(json.dumps(unsigned))
    completed = subprocess.run(
        [
            node_bin(),
            str(INTEROP_DIR / "sign.mjs"),
            "--credential",
            str(tmp_path / "unsigned.json"),
            "--seed-hex",
            multikey.private_bytes(key).hex(),
            "--verification-method",
            multikey.did_key_verification_method(key.public_key()),
            "--n",
            "1",
            "--warmup",
            "0",
            "--out",
            str(tmp_path / "signed.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=INTEROP_DIR,
    )
    assert json.loads(completed.stdout)["bench"] == "sign"
    signed = json.loads((tmp_path / "signed.json").read_text())
    assert dataintegrity.verify(signed, public_key=key.public_key())
    signed["credentialSubject"]["narrative"] += "!"
    assert not dataintegrity.verify(signed, public_key=key.public_key())
