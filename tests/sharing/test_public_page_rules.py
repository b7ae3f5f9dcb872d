"""What the public badge page offers and shows (issue 20, defects D11, D13, D25): no sharing
of a revoked badge, one privacy rule for the learner's name whether or not the badge was
claimed, no named reason for a badge never accepted, framework levels in words, one language
for the badge's content; and every award of the same content drawn from one shared skeleton
without showing another award's values."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client

from achievements import services as achievement_services
from awarding.revocation import services as revocation_services
from badges import services as badge_services
from badges.models import Award
from badges.services import EvidenceItem
from earners import services as earner_services
from issuers.models import Institution
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.earners.helpers import make_learner
from tests.frameworks.helpers import draft_micro, import_esco, place, reference

pytestmark = pytest.mark.django_db

REASON = "Issued in error: learner did not complete the final project."


@pytest.fixture
def lee(cast: Cast) -> Award:
    version = make_published(cast.editor, cast.issuer)
    return award(cast.awarder, version, email="lee@example.com", name="Lee Learner")


def page(found: Award, client: Client | None = None, **headers: Any) -> str:
    response = (client or Client()).get(f"/credentials/{found.pk}", **headers)
    assert response.status_code == 200
    return unescape(response.content.decode())


def _og_description(html: str) -> str:
    match = re.search(r'<meta property="og:description" content="([^"]*)"', html)
    assert match
    return match.group(1)


def _share_actions(html: str) -> list[str]:
    return [
        action
        for action, marker in (
            ("add", "Add to LinkedIn profile"),
            ("post", "Post on LinkedIn"),
            ("copy", 'data-copy="bp-link"'),
            ("png", '.png" download='),
            ("qr", "/qr.svg"),
            ("wechat", "/wechat.png"),
            ("embed", 'id="bp-embed"'),
        )
        if marker in html
    ]


def test_a_valid_badge_offers_every_share_action(lee: Award) -> None:
    assert _share_actions(page(lee)) == ["add", "post", "copy", "png", "qr", "wechat", "embed"]


def test_a_revoked_badge_offers_only_its_signed_credential(lee: Award) -> None:
    revocation_services.revoke_award(actor=None, award=lee, reason="Plagiarism")
    html = page(lee)

    assert "bp-status-revoked" in html
    assert "Add to LinkedIn profile" not in html and "Post on LinkedIn" not in html
    for gone in ("/share/", "linkedin", "/qr.svg", "/wechat.png", 'id="bp-embed"', 'id="bp-link"'):
        assert gone not in html
    downloads = re.findall(r'href="([^"]+)" download=', html)
    assert downloads == [f"/credentials/{lee.pk}.json"]  # verifiers still need it


def test_a_suspended_badge_cannot_be_added_to_a_linkedin_profile(lee: Award) -> None:
    revocation_services.suspend_award(actor=None, award=lee, reason="Under review")
    html = page(lee)

    assert "bp-status-suspended" in html
    assert "Add to LinkedIn profile" not in html and "/add" not in html


def test_an_unclaimed_badge_does_not_name_the_learner_anywhere_public(
    client: Client, lee: Award
) -> None:
    html = page(lee)
    assert "Lee Learner" not in html
    assert "Awarded to a learner identified by a hashed e-mail address" in html
    assert "Lee Learner" not in _og_description(html)
    unclaimed_card = client.get(f"/credentials/{lee.pk}/preview.png").content

    # The learner claims it and chooses to show their name: now it is everywhere.
    learner = make_learner("lee@example.com")
    earner_services.set_award_preference(
        user=learner, award=lee, visibility="link", show_name=True, include_evidence=False
    )
    shown = page(lee)
    assert "Awarded to Lee Learner" in shown
    assert _og_description(shown).startswith("Lee Learner earned")
    shown_card = client.get(f"/credentials/{lee.pk}/preview.png").content
    assert shown_card != unclaimed_card

    # ... and hidden again: the card is the nameless one an unclaimed badge has.
    earner_services.set_award_preference(
        user=learner, award=lee, visibility="link", show_name=False, include_evidence=False
    )
    assert "Lee Learner" not in page(lee)
    assert client.get(f"/credentials/{lee.pk}/preview.png").content == unclaimed_card


def test_a_badge_never_accepted_is_revoked_without_a_named_reason(lee: Award) -> None:
    revocation_services.revoke_award(actor=None, award=lee, reason=REASON)
    html = page(lee)

    assert "The issuer revoked this badge" in html
    assert REASON not in html and "Reason:" not in html


def test_an_accepted_badge_shows_the_issuers_reason(cast: Cast, lee: Award) -> None:
    badge_services.claim_award(award=lee)
    revocation_services.revoke_award(actor=None, award=Award.objects.get(pk=lee.pk), reason=REASON)

    assert f"Reason: {REASON}" in page(lee)


def test_framework_levels_and_skills_read_as_words_not_codes(cast: Cast) -> None:
    reference()  # the NZQCF and its levels
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, competencies=import_esco(cast.editor, cast.institution))
    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    found = award(cast.awarder, version)

    html = page(found)
    items = re.findall(r"<li>(.*?)</li>", html.split("Framework level and competencies")[1])
    level = re.sub(r"<[^>]+>", "", items[0])
    assert level == "NZQCF Level 4 · New Zealand Qualifications and Credentials Framework"
    python = re.sub(r"<[^>]+>", "", items[1])
    assert python == "Python (computer programming) · ESCO skills"  # no concept UUID


def test_the_badges_content_keeps_the_badges_language_in_a_chinese_page(
    cast: Cast, lee: Award
) -> None:
    Institution.objects.filter(pk=cast.institution.pk).update(name_zh="示范职业学院")
    english = page(lee, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    header = english.split('<header class="bp-issuer">')[1].split("</header>")[0]
    assert cast.institution.name_en in header and "示范职业学院" not in header

    chinese = award(
        cast.awarder, lee.achievement_version, email="li@example.com", language="zh-Hans"
    )
    header = page(chinese).split('<header class="bp-issuer">')[1].split("</header>")[0]
    assert "示范职业学院" in header and cast.institution.name_en not in header


def test_awards_sharing_a_skeleton_each_show_only_their_own_values(cast: Cast, lee: Award) -> None:
    other = award(
        cast.awarder,
        lee.achievement_version,
        email="ana@example.com",
        name="Ana Other",
        evidence=[EvidenceItem(url="https://portfolio.example/ana", narrative="Ana's <report>")],
    )
    learner = make_learner("ana@example.com")
    earner_services.set_award_preference(
        user=learner, award=other, visibility="public", show_name=True, include_evidence=True
    )
    revocation_services.suspend_award(actor=None, award=lee, reason="Under review")
    first, second = page(lee), page(other)

    assert str(lee.pk) in first and str(other.pk) not in first
    assert str(other.pk) in second and str(lee.pk) not in second
    assert "Awarded to Ana Other" in second and "Ana Other" not in first
    assert "Ana's <report>" in second and "portfolio.example/ana" not in first
    assert "Under review" not in first  # never accepted: no named reason
    assert "insignia-" not in first.replace("insignia-mark", "")  # every stand-in filled
    assert "insignia-" not in second.replace("insignia-mark", "")
    assert "5f0c7a" not in first + second


def test_a_renamed_institution_shows_on_every_award_of_the_version(cast: Cast, lee: Award) -> None:
    assert cast.institution.name_en in page(lee)
    Institution.objects.filter(pk=cast.institution.pk).update(name_en="Renamed Polytechnic")
    later = award(cast.awarder, lee.achievement_version, email="kim@example.com")

    assert "Renamed Polytechnic" in page(lee)
    assert "Renamed Polytechnic" in page(later)


def test_the_copy_buttons_use_the_shared_script_not_an_inline_one(lee: Award) -> None:
    html = page(lee)
    assert '<script src="/static/js/copy.js" defer></script>' in html
    assert "navigator.clipboard" not in html


def test_the_name_chosen_at_claim_time_shows_without_an_account(lee: Award) -> None:
    assert "Lee Learner" not in page(lee)
    badge_services.claim_award(award=lee)
    earner_services.record_claim_choice(award=lee, show_name=True)  # no account yet

    html = page(lee)
    assert "Awarded to Lee Learner" in html
    assert _og_description(html).startswith("Lee Learner earned")
