"""`manage.py award` and `manage.py achievements --json`, as an operator uses them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from badges.models import Award
from tests.badges.helpers import make_achievement, make_published, verify_served
from tests.base import Cast

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_award_command_prints_the_id_and_writes_the_signed_json(
    client: Client, cast: Cast, tmp_path: Path
) -> None:
    make_published(cast.editor, cast.issuer)
    out = tmp_path / "badge.json"
    printed = _run(
        "award",
        "--issuer",
        "poly-engineering",
        "--achievement",
        "data-literacy",
        "--email",
        "Lee@Example.com",
        "--name",
        "Lee Learner",
        "--evidence",
        "https://portfolio.example/lee",
        "--evidence",
        "https://portfolio.example/lee/2",
        "--narrative",
        "Completed the capstone.",
        "--out",
        str(out),
    ).strip()
    award = Award.objects.get()
    assert printed == award.credential["id"]
    assert printed.endswith(f"/credentials/{award.pk}")
    assert out.read_text(encoding="utf-8") == award.credential_json
    credential = json.loads(out.read_text(encoding="utf-8"))
    assert credential["credentialSubject"]["narrative"] == "Completed the capstone."
    assert [e["id"] for e in credential["evidence"]] == [
        "https://portfolio.example/lee",
        "https://portfolio.example/lee/2",
    ]
    assert award.recipient_name == "Lee Learner"
    assert award.awarded_by is None
    assert verify_served(client, credential)


def test_the_award_command_explains_what_is_missing(cast: Cast) -> None:
    with pytest.raises(CommandError, match="No achievement"):
        _run("award", "--issuer", "poly-engineering", "--achievement", "x", "--email", "a@b.c")
    make_achievement(cast.editor, cast.issuer)
    with pytest.raises(CommandError, match="no published version"):
        _run(
            "award",
            "--issuer",
            "poly-engineering",
            "--achievement",
            "data-literacy",
            "--email",
            "a@b.c",
        )
    assert not Award.objects.exists()


def test_achievements_json_lists_every_published_achievement(cast: Cast) -> None:
    make_published(cast.editor, cast.issuer)
    make_published(cast.outsider, cast.other_issuer, slug="painting", name_en="Painting")
    make_achievement(cast.editor, cast.issuer, slug="draft-only")

    rows = json.loads(_run("achievements", "--json"))

    assert [(r["issuer"], r["slug"], r["version"], r["name"]) for r in rows] == [
        ("poly-engineering", "data-literacy", 1, "Data Literacy"),
        ("rival-arts", "painting", 1, "Painting"),
    ]
    assert rows[0]["id"].endswith(f"/v/{rows[0]['version']}")
    assert rows[0]["languages"] == ["en", "zh-Hans"]
