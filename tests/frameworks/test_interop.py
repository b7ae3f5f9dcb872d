"""The Digital Bazaar verifier (Node) accepts a micro-credential placed in frameworks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

from achievements import services as achievement_services
from awarding import services as awarding_services
from frameworks.pathways import selectors as pathway_selectors
from frameworks.pathways import services as pathway_services
from frameworks.pathways.trees import GroupSpec
from tests.badges.helpers import make_published
from tests.base import make_cast
from tests.frameworks.helpers import draft_micro, import_esco, place, reference
from tests.interop.test_project_credentials import run_verifier, write

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_node_verifies_an_nzqcf_micro_credential_with_esco_alignments(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        reference()
        cast = make_cast()
        draft = draft_micro(cast.editor, cast.issuer)
        place(cast.editor, draft, competencies=import_esco(cast.editor, cast.institution))
        version = achievement_services.publish_version(actor=cast.editor, version=draft)
        award = awarding_services.award_badge(
            actor=cast.awarder, version=version, email="learner@example.com"
        )
        partial = awarding_services.award_badge(
            actor=cast.awarder,
            version=version,
            email="second@example.com",
            credits_earned=Decimal("7.5"),
        )
        returncode, lines = run_verifier(
            live_server.url, write(tmp_path, "nzqcf", award), write(tmp_path, "partial", partial)
        )

    assert award.credential["credentialSubject"]["achievement"]["creditsAvailable"] == 15
    assert partial.credential["credentialSubject"]["creditsEarned"] == 7.5
    assert [line.get("error") for line in lines] == [None, None]
    assert [line["verified"] for line in lines] == [True, True]
    assert returncode == 0


def test_node_verifies_the_clr_of_a_completed_pathway(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        reference()
        cast = make_cast()
        parts = []
        for slug in ("one", "two", "three"):
            draft = draft_micro(cast.editor, cast.issuer, slug)
            place(cast.editor, draft)
            parts.append(achievement_services.publish_version(actor=cast.editor, version=draft))
        target = make_published(cast.editor, cast.issuer, "cert", achievement_type="Certificate")
        pathway = pathway_services.create_pathway(
            actor=cast.editor,
            institution=cast.institution,
            title_en="Three badges",
            target=target.achievement,
            root=GroupSpec(rule="all", achievements=[p.achievement for p in parts]),
        )
        for part in parts:
            with transaction.atomic():  # on_commit runs when each award commits
                awarding_services.award_badge(
                    actor=cast.awarder, version=part, email="learner@example.com"
                )
        completion = pathway_selectors.completion_of(pathway, "learner@example.com")
        assert completion is not None
        path = tmp_path / "clr.json"
        path.write_text(completion.clr_json, encoding="utf-8")
        returncode, lines = run_verifier(live_server.url, path)

    assert lines[0].get("error") is None
    assert lines[0]["verified"] is True
    assert returncode == 0
