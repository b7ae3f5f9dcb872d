"""What the public sees of a learner's badge (privacy), shared collections checked live,
"who viewed my badge" counted by channel without personal data, and PDF certificates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from awarding.revocation import services as revocation_services
from badges.models import Award
from badges.services import EvidenceItem
from earners import services
from earners.models import Channel, Kind, ViewEvent
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


def test_a_badge_keeps_the_issuers_page_until_the_learner_claims_it(
    client: Client, mine: Award
) -> None:
    page = client.get(f"/credentials/{mine.pk}").content.decode()
    assert "Lee Learner" not in page  # the name only once the learner shows it (D13)
    assert "portfolio.example/lee" in page
    assert 'name="robots" content="noindex"' not in page


def test_claimed_badges_default_to_private_nameless_and_without_evidence(
    client: Client, mine: Award
) -> None:
    learner = make_learner("lee@example.com")
    client.force_login(learner)
    client.get("/backpack/")  # claiming gives every badge the protective defaults
    client.logout()

    page = client.get(f"/credentials/{mine.pk}").content.decode()

    assert "Lee Learner" not in page
    assert "portfolio.example/lee" not in page
    assert '<meta name="robots" content="noindex">' in page
    assert "lee@example.com" not in page


def test_the_learner_can_show_name_and_evidence_and_make_a_badge_public(
    client: Client, mine: Award
) -> None:
    learner = make_learner("lee@example.com")
    client.force_login(learner)
    response = client.post(
        f"/backpack/badges/{mine.pk}/",
        {"visibility": "public", "show_name": "on", "include_evidence": "on"},
    )
    assert response.status_code == 302
    client.logout()

    page = client.get(f"/credentials/{mine.pk}").content.decode()

    assert "Awarded to Lee Learner" in page
    assert "portfolio.example/lee" in page
    assert 'content="noindex"' not in page


def test_the_public_profile_exists_only_when_turned_on_and_lists_only_public_badges(
    client: Client, cast: Cast, mine: Award
) -> None:
    other = make_published(cast.editor, cast.issuer, slug="python", name_en="Python Basics")
    hidden = award(cast.awarder, other, email="lee@example.com")
    learner = make_learner("lee@example.com")
    services.claim_preferences(user=learner, awards=[mine, hidden])
    services.set_award_preference(
        user=learner, award=mine, visibility="public", show_name=True, include_evidence=False
    )
    slug = learner.learner_profile.slug
    assert client.get(f"/learners/{slug}").status_code == 404

    services.set_profile(user=learner, public=True, display_name="Lee L.")
    page = client.get(f"/learners/{slug}").content.decode()

    assert "Data Literacy" in page
    assert "Python Basics" not in page


def test_a_shared_collection_verifies_each_badge_live_and_its_link_can_be_switched_off(
    client: Client, cast: Cast, mine: Award
) -> None:
    learner = make_learner("lee@example.com")
    collection = services.create_collection(user=learner, name="Job application", awards=[mine])

    page = client.get(f"/shared/{collection.token}").content.decode()
    assert "Job application" in page and "Data Literacy" in page
    assert 'data-verdict="valid"' in page

    revocation_services.revoke_award(actor=cast.owner, award=mine, reason="Awarded in error")
    assert 'data-verdict="revoked"' in client.get(f"/shared/{collection.token}").content.decode()

    services.revoke_collection(user=learner, collection=collection)
    assert client.get(f"/shared/{collection.token}").status_code == 404


def test_an_expired_collection_link_no_longer_opens(client: Client, mine: Award) -> None:
    learner = make_learner("lee@example.com")
    collection = services.create_collection(
        user=learner,
        name="Short",
        awards=[mine],
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    assert client.get(f"/shared/{collection.token}").status_code == 200
    collection.expires_at = timezone.now() - dt.timedelta(seconds=1)
    collection.save()
    assert client.get(f"/shared/{collection.token}").status_code == 404


def test_views_are_counted_by_channel(client: Client, mine: Award) -> None:
    url = f"/credentials/{mine.pk}"
    client.get(url)
    client.get(url, {"src": "qr"})
    client.get(url, {"src": "embed"})
    client.get(url, HTTP_REFERER="https://www.linkedin.com/in/lee/")
    client.get(url + ".json")
    client.get(url, HTTP_USER_AGENT="LinkedInBot/1.0")  # a link preview, not a person
    client.head(url)

    learner = make_learner("lee@example.com")
    client.force_login(learner)
    page = client.get(f"/backpack/badges/{mine.pk}/").content.decode()

    counted = dict(ViewEvent.objects.values_list("channel", "kind").order_by().distinct())
    assert sorted(ViewEvent.objects.values_list("channel", flat=True)) == sorted(
        [Channel.DIRECT, Channel.QR, Channel.EMBED, Channel.LINKEDIN, Channel.API]
    )
    assert set(counted.values()) == {Kind.VIEW}
    assert "views: 5, verifications: 0" in page
    assert '<svg class="chart"' in page
    for channel in ("direct", "qr", "embed", "linkedin", "api"):
        assert f'<tr data-channel="{channel}"><td>' in page


def test_the_badge_page_links_its_qr_and_embed_code_to_their_channels(
    client: Client, mine: Award
) -> None:
    page = client.get(f"/credentials/{mine.pk}").content.decode()
    assert f"/credentials/{mine.pk}?src=embed" in page


def test_verifications_name_an_organisation_only_when_the_verifier_gives_one(
    client: Client, mine: Award
) -> None:
    learner = make_learner("lee@example.com")
    collection = services.create_collection(user=learner, name="Jobs", awards=[mine])
    shared = f"/shared/{collection.token}"
    client.get(shared)
    client.post(shared, {"organisation": "Acme Hiring Ltd"})
    client.post(shared, {"organisation": ""})

    client.force_login(learner)
    badge_page = client.get(f"/backpack/badges/{mine.pk}/").content.decode()
    collection_page = client.get(f"/backpack/collections/{collection.pk}/").content.decode()

    assert "Acme Hiring Ltd (1)" in badge_page
    assert "views: 0, verifications: 2" in badge_page
    assert "views: 1, verifications: 2" in collection_page


def test_no_ip_address_or_reader_detail_is_stored_with_a_view(client: Client, mine: Award) -> None:
    client.get(
        f"/credentials/{mine.pk}",
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Mozilla/5.0 Secret-Browser",
        HTTP_REFERER="https://www.linkedin.com/in/someone-private/",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM earners_viewevent")
        rows = cursor.fetchall()
    stored = repr(rows)
    assert len(rows) == 1
    assert "203.0.113.9" not in stored
    assert "Secret-Browser" not in stored
    assert "someone-private" not in stored
    columns = {f.name for f in ViewEvent._meta.get_fields()}
    assert columns == {"id", "award", "collection", "day", "channel", "kind", "organisation"}


def test_a_failing_counter_never_breaks_the_badge_page(
    client: Client, mine: Award, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import DatabaseError

    def broken(*args: object, **kwargs: object) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(ViewEvent.objects, "create", broken)
    response = client.get(f"/credentials/{mine.pk}")
    assert response.status_code == 200
    assert "Data Literacy" in response.content.decode()


def test_the_certificate_is_an_a4_pdf_with_the_signed_credential_attached(
    client: Client, mine: Award
) -> None:
    client.force_login(make_learner("lee@example.com"))
    response = client.get(f"/backpack/badges/{mine.pk}/certificate.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = response.content
    assert data.startswith(b"%PDF-")
    assert b"/MediaBox [0 0 595.28 841.89]" in data  # A4 in points
    assert b"/EmbeddedFile" in data and b"credential.json" in data
    assert mine.credential_json.encode("utf-8") in data  # attached byte for byte


def test_a_collection_has_a_printable_transcript(client: Client, mine: Award) -> None:
    learner = make_learner("lee@example.com")
    collection = services.create_collection(user=learner, name="Jobs", awards=[mine])
    response = client.get(f"/shared/{collection.token}/transcript.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    services.revoke_collection(user=learner, collection=collection)
    assert client.get(f"/shared/{collection.token}/transcript.pdf").status_code == 404


def test_the_certificate_carries_the_institution_logo_and_chinese_text(
    client: Client, cast: Cast
) -> None:
    from issuers.services import store_image
    from tests.base import png_bytes

    logo = store_image(institution=cast.institution, data=png_bytes(120, 60, "#cc0000"))
    cast.institution.logo = logo
    cast.institution.save()
    version = make_published(cast.editor, cast.issuer)
    chinese = award(cast.awarder, version, email="li@example.com", name="李伟", language="zh-Hans")
    client.force_login(make_learner("li@example.com"))

    data = client.get(f"/backpack/badges/{chinese.pk}/certificate.pdf").content

    assert data.count(b"/Subtype /Image") >= 3  # logo, badge, QR code
    assert b"NotoSansSC" in data or b"NotoSansCJK" in data  # the CJK font is embedded


def test_issuers_get_totals_only_never_per_organisation_or_day(
    client: Client, cast: Cast, mine: Award
) -> None:
    from earners.selectors import issuer_totals

    learner = make_learner("lee@example.com")
    collection = services.create_collection(user=learner, name="Jobs", awards=[mine])
    client.get(f"/credentials/{mine.pk}")
    client.post(f"/shared/{collection.token}", {"organisation": "Acme Hiring Ltd"})

    totals = issuer_totals(Award.objects.filter(issuer=cast.issuer))

    assert totals == {"views": 1, "verifications": 1}
