"""The badge page and its images come from the cache while nothing changed, and change at
once when anything they show does: status, expiry, the learner's choices, a learner
confirming the address, the issuer's branding. A signed-in reader's page is theirs alone,
and every reader's page carries their own CSRF token."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import formats, timezone

from awarding.revocation import services as revocation_services
from badges import services as badge_services
from badges.models import Award
from badges.services import EvidenceItem
from earners import services as earner_services
from earners.models import AwardPreference
from issuers.models import Institution, Issuer
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.earners.helpers import make_learner

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(cast: Cast) -> Award:
    version = make_published(cast.editor, cast.issuer)
    return award(
        cast.awarder,
        version,
        email="lee@example.com",
        name="Lee Learner",
        evidence=[EvidenceItem(url="https://portfolio.example/lee", narrative="A data report")],
    )


def page(client: Client, found: Award, query: str = "") -> str:
    response = client.get(f"/credentials/{found.pk}{query}")
    assert response.status_code == 200
    return str(response.content.decode())


def _token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_a_revocation_shows_on_the_next_view_of_a_cached_page(client: Client, mine: Award) -> None:
    badge_services.claim_award(award=mine)  # accepted: the page names the issuer's reason
    assert "bp-status-valid" in page(client, mine)
    assert "bp-status-valid" in page(client, mine)  # from the cache

    revocation_services.suspend_award(actor=None, award=mine, reason="Under review")
    assert "bp-status-suspended" in page(client, mine)
    assert "Under review" in page(client, mine)

    revocation_services.reinstate_award(actor=None, award=Award.objects.get(pk=mine.pk))
    assert "bp-status-valid" in page(client, mine)

    revocation_services.revoke_award(
        actor=None, award=Award.objects.get(pk=mine.pk), reason="Plagiarism"
    )
    html = page(client, mine)
    assert "bp-status-revoked" in html and "Plagiarism" in html


def test_a_cached_page_turns_expired_when_its_time_comes(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer, validity_days=1)
    soon = award(cast.awarder, version)
    Award.objects.filter(pk=soon.pk).update(valid_until=timezone.now() + timedelta(seconds=1))
    assert "bp-status-valid" in page(client, soon)

    time.sleep(1.2)  # no row changes: only the clock moves past validUntil

    assert "bp-status-expired" in page(client, soon)


def test_the_learners_choices_show_on_the_next_view(client: Client, mine: Award) -> None:
    before = page(client, mine)
    assert "Lee Learner" not in before  # not until the learner chooses to show it
    assert "portfolio.example/lee" in before

    # Confirming the address alone brings the protective defaults (no row of the award
    # changes): the name and evidence go, the page is not indexed.
    learner = make_learner("lee@example.com")
    claimed = page(client, mine)
    assert "Lee Learner" not in claimed
    assert "portfolio.example/lee" not in claimed
    assert '<meta name="robots" content="noindex">' in claimed

    earner_services.set_award_preference(
        user=learner, award=mine, visibility="public", show_name=True, include_evidence=True
    )
    shown = page(client, mine)
    assert "Awarded to Lee Learner" in shown and "portfolio.example/lee" in shown
    assert 'content="noindex"' not in shown

    earner_services.set_award_preference(
        user=learner, award=mine, visibility="public", show_name=False, include_evidence=True
    )
    assert "Lee Learner" not in page(client, mine)


def test_a_superseded_badge_points_to_its_replacement_at_once(
    client: Client, cast: Cast, mine: Award
) -> None:
    assert "bp-superseded" not in page(client, mine)
    replacement = award(cast.awarder, mine.achievement_version, email="lee@work.example")
    AwardPreference.objects.create(award=mine, superseded_by=replacement)

    html = page(client, mine)
    assert "bp-superseded" in html and f"/credentials/{replacement.pk}" in html


def test_the_issuers_branding_shows_on_the_next_view(
    client: Client, cast: Cast, mine: Award
) -> None:
    assert "#1f4e79" in page(client, mine)
    Institution.objects.filter(pk=cast.institution.pk).update(brand_colour="#aa3300")
    Issuer.objects.filter(pk=cast.issuer.pk).update(url="https://eng.poly.example/new")

    html = page(client, mine)
    assert "#aa3300" in html and "https://eng.poly.example/new" in html


def test_a_signed_in_readers_page_is_never_served_to_others(client: Client, mine: Award) -> None:
    reader = make_learner("reader@example.com", name="Rita Reader")
    anonymous = Client()
    assert "Rita Reader" not in page(anonymous, mine)  # cached for anonymous readers

    client.force_login(reader)
    mine_page = client.get(f"/credentials/{mine.pk}")
    assert "Rita Reader" in mine_page.content.decode()  # their own header
    assert "private" in mine_page["Cache-Control"]

    assert "Rita Reader" not in page(Client(), mine)
    assert "Learner sign-in" in page(Client(), mine)


def test_each_reader_gets_a_token_of_their_own_csrf_cookie(mine: Award) -> None:
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_token = _token(page(first, mine))
    second_token = _token(page(second, mine))  # the same cached page, another reader
    assert first_token != second_token

    # Each token works with its own cookie (the language switch) and with no other.
    switched = first.post(
        "/i18n/setlang/", {"language": "zh-hans", "csrfmiddlewaretoken": first_token}
    )
    assert switched.status_code == 302
    refused = second.post(
        "/i18n/setlang/", {"language": "zh-hans", "csrfmiddlewaretoken": "x" * 64}
    )
    assert refused.status_code == 403
    assert (
        second.post(
            "/i18n/setlang/", {"language": "zh-hans", "csrfmiddlewaretoken": second_token}
        ).status_code
        == 302
    )


def test_the_language_switch_returns_to_the_readers_own_address(
    client: Client, mine: Award
) -> None:
    page(client, mine)
    html = page(client, mine, "?src=qr")
    match = re.search(r'name="next" type="hidden" value="([^"]*)"', html)
    assert match and unescape(match.group(1)) == f"/credentials/{mine.pk}?src=qr"
    assert "insignia-" not in html.replace("insignia-mark", "")  # no stand-in left


def test_each_language_has_its_own_cached_page(client: Client, mine: Award) -> None:
    assert "Verify this badge" in page(client, mine)
    chinese = client.get(f"/credentials/{mine.pk}", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert "验证此徽章" in chinese.content.decode()
    assert "Verify this badge" in page(Client(), mine)


def test_a_reader_who_holds_the_page_gets_a_304_until_it_changes(mine: Award) -> None:
    reader = Client()
    first = reader.get(f"/credentials/{mine.pk}")
    etag = first["ETag"]
    assert first["Cache-Control"] == "private, no-cache"

    again = reader.get(f"/credentials/{mine.pk}", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304

    revocation_services.revoke_award(actor=None, award=mine, reason="Plagiarism")
    after = reader.get(f"/credentials/{mine.pk}", HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200 and "bp-status-revoked" in after.content.decode()
    # Another reader's copy carries another reader's token: never a 304 for it.
    assert Client().get(f"/credentials/{mine.pk}", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_hosted_assertion_answers_410_at_once_after_a_revocation(
    client: Client, mine: Award
) -> None:
    url = f"/ob2/assertions/{mine.pk}"
    first = client.get(url)
    assert first.status_code == 200 and first["Cache-Control"] == "public, no-cache"
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    revocation_services.revoke_award(actor=None, award=mine, reason="Plagiarism")
    gone = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert gone.status_code == 410 and b"Plagiarism" in gone.content


def test_the_preview_card_drops_a_hidden_name(client: Client, mine: Award) -> None:
    learner = make_learner("lee@example.com")
    earner_services.set_award_preference(
        user=learner, award=mine, visibility="public", show_name=True, include_evidence=False
    )
    shown = client.get(f"/credentials/{mine.pk}/preview.png")
    assert (
        client.get(
            f"/credentials/{mine.pk}/preview.png", HTTP_IF_NONE_MATCH=shown["ETag"]
        ).status_code
        == 304
    )

    earner_services.set_award_preference(
        user=learner, award=mine, visibility="public", show_name=False, include_evidence=False
    )
    hidden = client.get(f"/credentials/{mine.pk}/preview.png", HTTP_IF_NONE_MATCH=shown["ETag"])
    assert hidden.status_code == 200 and hidden.content != shown.content


def test_the_credential_json_is_the_stored_text_and_revalidates(
    client: Client, mine: Award
) -> None:
    canonical = client.get(f"/credentials/{mine.pk}.json")
    assert canonical.content == mine.credential_json.encode()
    assert canonical["Cache-Control"] == "public, max-age=3600"
    assert (
        client.get(f"/credentials/{mine.pk}.json", HTTP_IF_NONE_MATCH=canonical["ETag"]).status_code
        == 304
    )
    negotiated = client.get(f"/credentials/{mine.pk}", HTTP_ACCEPT="application/ld+json")
    assert negotiated.content == canonical.content
    assert negotiated["Cache-Control"] == "public, no-cache"


def test_the_page_says_when_the_status_was_read_not_when_it_was_cached(
    client: Client, mine: Award
) -> None:
    page(client, mine)  # now cached
    before = formats.date_format(timezone.localtime(), "DATETIME_FORMAT")
    html = page(client, mine)
    after = formats.date_format(timezone.localtime(), "DATETIME_FORMAT")

    stamp = re.search(r"Last checked: ([^<]+)</span>", html)
    assert stamp and unescape(stamp.group(1)) in (before, after)
