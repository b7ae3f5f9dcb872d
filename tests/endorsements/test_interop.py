"""The independent Digital Bazaar stack (``tests/interop/verify.mjs``: @digitalbazaar/vc,
eddsa-rdfc-2022, vc-bitstring-status-list) accepts our endorsement credentials, reads their
status from the live server's signed list, and refuses one once withdrawn; a badge issued
after an endorsement carries it and still verifies there, as does the embedded copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

from endorsements import services
from tests.badges.helpers import award, make_published
from tests.base import make_cast
from tests.endorsements.helpers import endorse_achievement, endorse_issuer
from tests.interop.test_project_credentials import run_verifier, write

pytestmark = pytest.mark.usefixtures("transactional_db")


def _file(tmp_path: Path, name: str, document: dict[str, Any]) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_digital_bazaar_verifies_an_endorsement_and_refuses_it_once_withdrawn(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        endorsement = endorse_issuer(cast, comment="信誉良好 — trusted “partner”")
        path = _file(tmp_path, "endorsement", endorsement.credential)
        _, before = run_verifier(live_server.url, path)

        services.withdraw_endorsement(actor=cast.outsider, endorsement=endorsement)
        returncode, after = run_verifier(live_server.url, path)

    assert [(line["verified"], line["status"]) for line in before] == [(True, "valid")], before
    assert [(line["verified"], line["status"]) for line in after] == [(False, "revoked")], after
    assert returncode == 1


def test_digital_bazaar_verifies_a_badge_carrying_endorsements(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        version = make_published(cast.editor, cast.issuer)
        endorse_issuer(cast)
        endorse_achievement(cast, version)
        badge = award(cast.awarder, version)
        credential = badge.credential
        embedded = [
            *credential["issuer"]["endorsement"],
            *credential["credentialSubject"]["achievement"]["endorsement"],
        ]
        files = [
            write(tmp_path, "badge", badge),
            *(_file(tmp_path, f"embedded-{n}", e) for n, e in enumerate(embedded)),
        ]
        returncode, lines = run_verifier(live_server.url, *files)

    assert len(embedded) == 2
    assert [(line["verified"], line["status"]) for line in lines] == [(True, "valid")] * 3, lines
    assert returncode == 0
