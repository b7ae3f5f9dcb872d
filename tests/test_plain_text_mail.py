"""Plain-text e-mails and subjects carry text, not HTML: a name with an apostrophe or an
ampersand reads as typed (issue 18: HTML entities in plain-text mail). The HTML part still
escapes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from issuers import services as issuer_services
from issuers.models import Role
from tests.badges.helpers import award, make_published
from tests.base import make_cast

pytestmark = pytest.mark.django_db

EMAILS = Path(__file__).resolve().parents[1] / "templates" / "emails"


def test_every_plain_text_email_template_turns_autoescape_off() -> None:
    unescaped = [
        p.name for p in EMAILS.glob("*.txt") if "{% autoescape off %}" not in p.read_text()
    ]
    assert unescaped == []


def test_an_award_email_shows_names_as_typed(
    mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    cast = make_cast()
    version = make_published(cast.editor, cast.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, version, email="oneil@example.com", name="Siobhán O'Neil & Co")

    (sent,) = [m for m in mailoutbox if m.to == ["oneil@example.com"]]
    html = sent.alternatives[0][0]
    assert "O'Neil & Co" in sent.body
    assert "&#x27;" not in sent.body and "&amp;" not in sent.body
    assert "O&#x27;Neil &amp; Co" in html


def test_an_invitation_subject_shows_the_institution_as_typed(
    mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    cast = make_cast()
    cast.institution.name_en = "St Mary's & St John's"
    cast.institution.save()
    with django_capture_on_commit_callbacks(execute=True):
        issuer_services.invite_member(
            actor=cast.owner,
            institution=cast.institution,
            email="new@example.com",
            role=Role.AWARDER,
        )

    (sent,) = [m for m in mailoutbox if m.to == ["new@example.com"]]
    assert "St Mary's & St John's" in sent.subject
    assert "St Mary's & St John's" in sent.body
