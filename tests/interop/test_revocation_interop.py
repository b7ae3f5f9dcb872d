"""The independent Digital Bazaar verifier sees revocation and suspension (issues #6, 18 5a).

``verify.mjs`` checks ``credentialStatus`` with ``@digitalbazaar/vc-bitstring-status-list``:
it fetches the issuer's ``BitstringStatusListCredential`` from the live (loopback) server,
verifies its proof against the issuer's did:web key, matches the issuers, and reads the bit
— independently of this platform's code. The credential alone is enough: the one entry it
carries is the suspension entry, set while suspended and for good once revoked
(docs/status-lists.md). Also: a list encoded here decodes there with the same bit order.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

from awarding.revocation import services as revocation_services
from openbadges import statuslist
from tests.badges.helpers import award, make_published
from tests.base import make_cast
from tests.interop.test_node_interop import INTEROP_DIR, node_bin
from tests.interop.test_project_credentials import run_verifier, write

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_node_rejects_a_revoked_credential_and_accepts_its_sibling(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        version = make_published(cast.editor, cast.issuer)
        kept = award(cast.awarder, version, email="kept@example.com")
        withdrawn = award(cast.awarder, version, email="withdrawn@example.com")
        files = [write(tmp_path, "kept", kept), write(tmp_path, "withdrawn", withdrawn)]
        _, before = run_verifier(live_server.url, *files)

        revocation_services.revoke_award(
            actor=cast.editor, award=withdrawn, reason="Awarded in error"
        )
        returncode, after = run_verifier(live_server.url, *files)

    assert [(line["verified"], line["status"]) for line in before] == [
        (True, "valid"),
        (True, "valid"),
    ], before
    # The credential's own entry is its suspension entry: Digital Bazaar reads its bit, set
    # for good by the revocation, and refuses the credential.
    assert [(line["verified"], line["status"]) for line in after] == [
        (True, "valid"),
        (False, "suspended"),
    ], after
    assert returncode == 1


def test_node_tells_a_revocation_from_a_suspension_with_both_entries(
    live_server: LiveServer, tmp_path: Path
) -> None:
    """``/credentials/<id>/status`` lists both entries; with both, a verifier names it."""
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        version = make_published(cast.editor, cast.issuer)
        revoked = award(cast.awarder, version, email="revoked@example.com")
        suspended = award(cast.awarder, version, email="suspended@example.com")
        revocation_services.revoke_award(actor=cast.editor, award=revoked, reason="Fraud")
        revocation_services.suspend_award(actor=cast.editor, award=suspended, reason="Review")
        files = [write(tmp_path, "revoked", revoked), write(tmp_path, "suspended", suspended)]
        completed = subprocess.run(
            [
                node_bin(),
                str(INTEROP_DIR / "verify.mjs"),
                *("--did-web-base-url", live_server.url, "--check-suspension"),
                *map(str, files),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            cwd=INTEROP_DIR,
        )
        lines = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]

    assert [(line["verified"], line["status"]) for line in lines] == [
        (False, "revoked,suspended"),
        (False, "suspended"),
    ], lines


def test_node_sees_suspension_and_reinstatement(live_server: LiveServer, tmp_path: Path) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
        path = write(tmp_path, "badge", badge)

        def node_status() -> tuple[bool, str]:
            completed = subprocess.run(
                [
                    node_bin(),
                    str(INTEROP_DIR / "verify.mjs"),
                    "--did-web-base-url",
                    live_server.url,
                    str(path),
                ],
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
                cwd=INTEROP_DIR,
            )
            line = json.loads(completed.stdout.splitlines()[0])
            return line["verified"], line["status"]

        active = node_status()
        revocation_services.suspend_award(actor=cast.owner, award=badge, reason="Under review")
        suspended = node_status()
        revocation_services.reinstate_award(actor=cast.owner, award=badge)
        reinstated = node_status()

    assert active == (True, "valid")
    assert suspended == (False, "suspended")
    assert reinstated == (True, "valid")


def test_node_decodes_our_bit_order() -> None:
    bits = statuslist.new_bitstring()
    for index in (0, 7, 8, 94_567, 131_071):
        statuslist.set_bit(bits, index)
    script = (
        "import {decodeList} from '@digitalbazaar/vc-bitstring-status-list';"
        "const list = await decodeList({encodedList: process.argv[1]});"
        "const set = [];"
        "for(const i of [0, 1, 6, 7, 8, 9, 94566, 94567, 131071]) {"
        "  if(list.getStatus(i)) set.push(i); }"
        "console.log(JSON.stringify({length: list.length, set}));"
    )
    completed = subprocess.run(
        [node_bin(), "--input-type=module", "-e", script, statuslist.encode(bits)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=INTEROP_DIR,
    )

    assert completed.stdout.strip() == '{"length":131072,"set":[0,7,8,94567,131071]}'
