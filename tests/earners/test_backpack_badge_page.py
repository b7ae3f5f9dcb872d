"""The learner's own badge page in the backpack (review defect D14): the badge image and the
same share actions as the public page, without inline script."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from awarding.revocation import services as revocation_services
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.earners.helpers import make_learner

pytestmark = pytest.mark.django_db


def test_the_badge_page_shows_the_image_and_every_share_action(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    mine = award(cast.awarder, version, email="lee@example.com")
    client.force_login(make_learner("lee@example.com"))

    page = client.get(f"/backpack/badges/{mine.pk}/").content.decode()

    image = re.search(r'<img src="([^"]+)" alt="Badge image: Data Literacy"', page)
    assert image is not None
    assert client.get(html.unescape(image.group(1)))["Content-Type"].startswith("image/")
    assert "https://www.linkedin.com/profile/add?" in page
    assert "Add to LinkedIn profile" in page and "Post on LinkedIn" in page
    assert f'src="/credentials/{mine.pk}/qr.svg"' in page
    link = re.search(r'<input id="bk-link" type="url" value="([^"]+)" readonly>', page)
    assert link is not None and link.group(1).endswith(f"/credentials/{mine.pk}")
    assert 'data-copy="bk-link"' in page
    assert client.get(f"/credentials/{mine.pk}/qr.svg").status_code == 200
    # Copy buttons work through the static script: the page has no inline script.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "/static/js/copy.js" in page


def test_a_revoked_badge_offers_no_sharing_in_the_backpack(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    mine = award(cast.awarder, version, email="lee@example.com")
    revocation_services.revoke_award(actor=cast.editor, award=mine, reason="Issued in error")
    client.force_login(make_learner("lee@example.com"))

    page = client.get(f"/backpack/badges/{mine.pk}/").content.decode()

    assert "Add to LinkedIn profile" not in page and "Post on LinkedIn" not in page
    assert "cannot be shared" in page
    assert f"{mine.pk}.json" in page
