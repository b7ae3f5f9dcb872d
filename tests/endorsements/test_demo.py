"""The demo: the council endorses the School of Engineering, and a demo badge's verify result
(its link, as a QR code opens it) says "Endorsed by …" in English and Chinese."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from badges.models import Award
from endorsements.models import Endorsement
from insignia.demo.endorsements import COUNCIL_ISSUER, ENDORSED_ISSUER
from insignia.demo.services import seed_demo

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "endorsed"), [("en", "Endorsed by {name}"), ("zh-hans", "背书方：{name}")]
)
def test_a_demo_badge_is_endorsed_by_the_council(
    client: Client, language: str, endorsed: str
) -> None:
    seed_demo()
    seed_demo()  # safe to run again: still one endorsement
    endorsement = Endorsement.objects.get()
    assert endorsement.endorser.slug == COUNCIL_ISSUER["slug"]
    badge = Award.objects.filter(issuer__slug=ENDORSED_ISSUER).first()
    assert badge is not None
    link = settings.INSIGNIA_BASE_URL + reverse("credential", args=[badge.pk])
    cache.clear()
    client.cookies["insignia_language"] = language

    page = client.get(reverse("verify"), {"url": link}).content.decode()

    assert 'data-verdict="valid"' in page
    check = page[page.index('data-check="endorsements"') :][:600]
    assert endorsed.format(name=COUNCIL_ISSUER["name_en"]) in page, check
