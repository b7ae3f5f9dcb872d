"""The learner's claim link (issue #8): see the badge, accept it, and only with the link."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from awarding.revocation import services as revocation_services
from badges.notifications import links
from tests.badges.helpers import award, make_published
from tests.base import Cast

pytestmark = pytest.mark.django_db


def test_the_learner_sees_the_badge_and_accepts_it_once(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version, email="lee@example.com", name="Lee Learner")
    url = reverse("claim", args=[links.claim_token(issued)])

    page = client.get(url).content.decode()
    assert "Data Literacy" in page and "Lee Learner" in page and "Accept the badge" in page
    # No image was uploaded: the generated badge image, as on the badge page, and it loads.
    image = reverse("achievement_image", args=[version.achievement_id, version.number])
    assert f'src="{image}"' in page
    assert client.get(image)["Content-Type"].startswith("image/")
    # Following the link is opening: the page writes nothing itself but embeds the e-mail's
    # "opened" pixel, and loading that pixel marks the e-mail opened.
    assert issued.notifications.get().opened_at is None
    pixel = re.search(r'<img src="([^"]+)"[^>]*class="pixel"', page)
    assert pixel is not None, page
    opened = client.get(html.unescape(pixel.group(1)))
    assert opened.status_code == 200
    assert opened["Content-Type"] == "image/gif"
    assert issued.notifications.get().opened_at is not None

    assert client.post(url).status_code == 302
    issued.refresh_from_db()
    first = issued.claimed_at
    assert first is not None
    client.post(url)
    issued.refresh_from_db()
    assert issued.claimed_at == first
    assert "It is yours" in client.get(url).content.decode()


def test_a_forged_or_altered_link_finds_nothing(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version)
    token = links.claim_token(issued)

    assert client.get(reverse("claim", args=[f"{issued.pk}"])).status_code == 404
    assert client.get(reverse("claim", args=[token[:-2] + "xx"])).status_code == 404
    assert client.post(reverse("claim", args=[token + "x"])).status_code == 404
    issued.refresh_from_db()
    assert issued.claimed_at is None


def test_a_revoked_badge_cannot_be_claimed(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version)
    revocation_services.revoke_award(actor=cast.editor, award=issued, reason="Wrong person")
    url = reverse("claim", args=[links.claim_token(issued)])

    client.post(url)

    issued.refresh_from_db()
    assert issued.claimed_at is None
    assert "revoked" in client.get(url).content.decode()


def test_the_claim_page_offers_a_learner_account_when_there_is_one(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version)
    try:
        signup = reverse("earners:signup")
    except NoReverseMatch:
        signup = ""

    page = client.get(reverse("claim", args=[links.claim_token(issued)])).content.decode()

    assert ("Create an account to keep it" in page) == bool(signup)
    if signup:
        assert f'href="{signup}?claim=' in page or 'value="signup"' in page
