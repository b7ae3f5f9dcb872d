"""A real wallet receives a learner's badge by OID4VCI 1.0 from the live server.

The wallet is tests/wallets/oid4vci/wallet.mjs, built on the independent client library
``@openid4vc/openid4vci`` (pinned in its package-lock.json): it resolves the offer from the
QR code's link, reads both metadata documents, redeems the pre-authorized code with the
transaction code from the learner's e-mail, asks for a nonce, proves its own fresh key
(did:key or a bare P-256 JWK) and receives the credential. The Digital Bazaar verifier
(tests/interop/verify.mjs) then verifies it, status list included; revoking the award makes
the wallet's copy fail there too; and a second use of the same offer is refused.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings
from pytest_django.live_server_helper import LiveServer

from awarding.revocation import services as revocation_services
from badges.models import Award
from tests.badges.helpers import award, make_published
from tests.base import make_cast
from tests.earners.helpers import make_learner
from tests.interop.test_node_interop import node_bin
from tests.interop.test_project_credentials import run_verifier
from tests.wallets import helpers
from verification import pipeline
from wallets.models import Delivery

pytestmark = pytest.mark.usefixtures("transactional_db")

WALLET_DIR = Path(__file__).resolve().parent / "oid4vci"


def run_wallet(offer: str, tx_code: str, out: Path, *options: str) -> tuple[int, dict[str, Any]]:
    assert (WALLET_DIR / "node_modules" / "@openid4vc" / "openid4vci").is_dir(), (
        "run `make interop-deps` (npm ci in tests/wallets/oid4vci) first"
    )
    completed = subprocess.run(
        [
            node_bin(),
            str(WALLET_DIR / "wallet.mjs"),
            *("--offer", offer, "--tx-code", tx_code, "--out", str(out)),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=WALLET_DIR,
    )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    assert lines, completed.stderr
    return completed.returncode, json.loads(lines[-1])


def _offer(client: Client, the_award: Award) -> tuple[str, str]:
    """The learner presses "Create a wallet offer": the page's deep link, the mailed code."""
    mail.outbox.clear()
    page = client.post(f"/backpack/badges/{the_award.pk}/wallet/").content.decode()
    link = re.search(r'href="(openid-credential-offer://[^"]+)"', page)
    assert link is not None, page
    return link.group(1).replace("&amp;", "&"), helpers.mailed_tx_code()


def test_a_wallet_receives_the_badge_digital_bazaar_verifies_it_and_revocation_reaches_it(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        version = make_published(cast.editor, cast.issuer)
        mine = award(cast.awarder, version, email="lee@example.com")
        client = Client()
        client.force_login(make_learner("lee@example.com"))
        offer, tx_code = _offer(client, mine)
        received = tmp_path / "received.json"

        code, answer = run_wallet(offer, tx_code, received)
        assert (code, answer["ok"]) == (0, True), answer
        copy = json.loads(received.read_text(encoding="utf-8"))
        assert copy["credentialSubject"]["id"] == answer["holder"]
        assert answer["holder"].startswith("did:key:z6Mk")
        assert copy["credentialStatus"] == mine.credential["credentialStatus"]

        # The independent verifier accepts it, status list and did:web key included ...
        _, before = run_verifier(live_server.url, received)
        # ... and so does ours.
        ours = pipeline.verify(pipeline.VerifyRequest(text=received.read_text()))
        delivery = Delivery.objects.get()
        page = client.get(f"/backpack/badges/{mine.pk}/wallet/").content.decode()

        # The same offer a second time: refused, nothing more delivered.
        again_code, again = run_wallet(offer, tx_code, tmp_path / "again.json")

        revocation_services.revoke_award(actor=cast.editor, award=mine, reason="Awarded in error")
        returncode, after = run_verifier(live_server.url, received)

    assert before[0]["verified"] is True and before[0]["status"] == "valid", before
    assert ours.verdict == "valid", ours
    assert (delivery.holder_id, delivery.format) == (answer["holder"], "ldp_vc")
    assert answer["holder"][:40] in page
    assert again_code == 1 and again["ok"] is False
    assert "already been used" in again["error"], again
    assert Delivery.objects.count() == 1
    # Revoking the award flips the shared status bit: the wallet's copy now fails too.
    assert returncode == 1 and after[0]["verified"] is False, after
    assert after[0]["status"] in {"revoked", "suspended"}, after


def test_a_wallet_with_a_p256_key_receives_a_vc_jwt_our_verifier_accepts(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        version = make_published(cast.editor, cast.issuer)
        mine = award(cast.awarder, version, email="lee@example.com")
        client = Client()
        client.force_login(make_learner("lee@example.com"))
        offer, tx_code = _offer(client, mine)
        received = tmp_path / "received.jwt"
        code, answer = run_wallet(
            offer,
            tx_code,
            received,
            *("--key", "p256", "--configuration", "OpenBadgeCredential_jwt_vc_json"),
        )
        assert (code, answer["ok"]) == (0, True), answer
        report = pipeline.verify(pipeline.VerifyRequest(text=received.read_text()))
        delivery = Delivery.objects.get()

    assert answer["format"] == "jwt_vc_json"
    assert report.verdict == "valid", report
    assert delivery.holder_id.startswith("did:jwk:")
    assert delivery.credential == received.read_text()


def test_a_wallet_given_a_wrong_transaction_code_gets_nothing(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        version = make_published(cast.editor, cast.issuer)
        mine = award(cast.awarder, version, email="lee@example.com")
        client = Client()
        client.force_login(make_learner("lee@example.com"))
        offer, tx_code = _offer(client, mine)
        wrong = "000000" if tx_code != "000000" else "111111"
        code, answer = run_wallet(offer, wrong, tmp_path / "none.json")

    assert code == 1 and answer["ok"] is False
    assert "tx_code" in answer["error"], answer
    assert not Delivery.objects.exists()
