"""The Digital Bazaar verifier (Node) accepts every credential the project issues.

Credentials are issued through the real services while a live server serves the issuers'
did:web documents; ``verify.mjs`` resolves them over loopback http. Content with control
characters (those a badge can carry: tab, CR, LF, DEL), quotes, CJK, right-to-left text and
emoji must survive signing and storage.
A credential whose key was withdrawn must be rejected.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

from achievements import services as achievement_services
from awarding import services as awarding_services
from badges import selectors
from badges.models import Award
from badges.services import EvidenceItem
from issuers import services as issuer_services
from openbadges import baking
from tests.base import Cast, make_cast
from tests.interop.test_node_interop import EDGE_CASES, INTEROP_DIR, node_bin

pytestmark = pytest.mark.usefixtures("transactional_db")


def run_verifier(base_url: str, *files: Path) -> tuple[int, list[dict[str, Any]]]:
    completed = subprocess.run(
        [node_bin(), str(INTEROP_DIR / "verify.mjs"), "--did-web-base-url", base_url]
        + [str(f) for f in files],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=INTEROP_DIR,
    )
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    assert len(lines) == len(files), completed.stderr
    return completed.returncode, lines


def issuable(text: str) -> str:
    """``text`` as the services accept it: the C0 controls XML 1.0 cannot carry are refused at
    input (``common.text``, ``tests/badges/test_badge_text.py``); tab, CR, LF and DEL stay."""
    return "".join(char for char in text if baking.xml_illegal(char) is None)


def write(tmp_path: Path, name: str, award: Award) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(award.credential_json, encoding="utf-8")
    return path


def issue_edge_case(cast: Cast, name: str, text: str) -> Award:
    achievement = achievement_services.create_achievement(
        actor=cast.editor,
        issuer=cast.issuer,
        slug=f"edge-{name}",
        name_en=f"Badge {text}",
        name_zh=f"徽章 {text}",
        description_en=text,
        description_zh=text,
        criteria_en=f"Do this: {text}",
        criteria_zh=f"标准：{text}",
        tags=[text, "plain"],
        result_descriptions=[
            {"name_en": text, "name_zh": text, "result_type": "Status", "allowed_values": [text]}
        ],
    )
    draft = selectors.draft_of(achievement)
    assert draft is not None
    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    return awarding_services.award_badge(
        actor=cast.awarder,
        version=version,
        email=f"learner+{name}@example.com",
        name=text,
        narrative=text,
        evidence=[
            EvidenceItem(url="https://portfolio.example/work?q=1&r=2", narrative=text),
            EvidenceItem(narrative=text),
        ],
        language="zh-Hans" if name == "cjk" else "en",
    )


def test_node_verifies_every_kind_of_credential_the_project_issues(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        files = [
            write(tmp_path, name, issue_edge_case(cast, name, issuable(text)))
            for name, text in EDGE_CASES.items()
        ]
        returncode, lines = run_verifier(live_server.url, *files)

    assert [line.get("error") for line in lines] == [None] * len(files)
    assert all(line["verified"] for line in lines)
    assert returncode == 0


def test_node_follows_key_rotation_and_withdrawal(live_server: LiveServer, tmp_path: Path) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        before = issue_edge_case(cast, "before", "before rotation")
        issuer_services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)
        after = issue_edge_case(cast, "after", "after rotation")
        files = [write(tmp_path, "before", before), write(tmp_path, "after", after)]
        _, rotated = run_verifier(live_server.url, *files)

        issuer_services.withdraw_signing_key(actor=cast.owner, key=before.signing_key)
        returncode, withdrawn = run_verifier(live_server.url, *files)

    assert before.signing_key_id != after.signing_key_id
    assert [line["verified"] for line in rotated] == [True, True]
    assert [line["verified"] for line in withdrawn] == [False, True], withdrawn
    assert "not found in DID document" in withdrawn[0]["error"]
    assert returncode == 1


def test_node_verifies_a_badge_awarded_to_a_student_number_without_an_e_mail(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        achievement = achievement_services.create_achievement(
            actor=cast.editor,
            issuer=cast.issuer,
            slug="student-number",
            name_en="Workshop Safety",
            name_zh="车间安全",
            description_en="Works safely in the workshop.",
            description_zh="在车间安全作业。",
            criteria_en="Complete the induction.",
            criteria_zh="完成安全培训。",
        )
        draft = selectors.draft_of(achievement)
        assert draft is not None
        version = achievement_services.publish_version(actor=cast.editor, version=draft)
        issued = awarding_services.award_badge(
            actor=cast.awarder,
            version=version,
            identifier_type="studentId",
            identifier="20261234",
            name="Learner One",
        )
        returncode, lines = run_verifier(live_server.url, write(tmp_path, "student", issued))

    (identity,) = issued.credential["credentialSubject"]["identifier"]
    assert issued.recipient_email == ""
    assert identity["identityType"] == "ext:studentId"
    assert lines[0].get("error") is None, lines[0]
    assert lines[0]["verified"] is True
    assert returncode == 0
