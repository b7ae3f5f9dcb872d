"""Recognition cases and backpack imports run the verify pipeline: their pages show which
trusted registries list the badge's issuer, in the reader's language."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from earners.models import ImportedBadge
from frameworks.recognition import services as recognition_services
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.earners.helpers import make_learner

pytestmark = pytest.mark.django_db

OURS = {"name": "Insignia test registry", "url": "own"}


def test_a_recognition_case_shows_where_the_learners_badge_issuer_is_listed(
    cast: Cast, client: Client, settings: Settings
) -> None:
    settings.INSIGNIA_ISSUER_REGISTRIES = [OURS]
    given = award(cast.awarder, make_published(cast.owner, cast.issuer), email="lee@example.com")
    module = make_published(cast.outsider, cast.other_issuer, "their-module").achievement
    case = recognition_services.open_case(
        actor=cast.outsider,
        institution=cast.other_institution,
        learner_email="lee@example.com",
        module=module,
    )
    evidence = recognition_services.add_evidence(
        actor=cast.outsider, case=case, url=given.credential["id"]
    )
    assert evidence.report["issuer_registries"]["status"] == "listed"
    client.force_login(cast.outsider)
    url = reverse("manage:recognition_case", args=[cast.other_institution.slug, case.pk])
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    for page in (english, chinese):
        assert 'data-registries="listed"' in page
        assert 'data-registry="Insignia test registry"' in page
    assert "Listed in:" in english
    assert "收录于：" in chinese


def test_an_imported_badge_shows_a_warning_when_its_issuer_is_not_listed(
    cast: Cast, client: Client, settings: Settings
) -> None:
    settings.INSIGNIA_ISSUER_REGISTRIES = [OURS]
    given = award(cast.awarder, make_published(cast.owner, cast.issuer), email="lee@example.com")
    client.force_login(make_learner("lee@example.com"))
    client.post("/backpack/imports/", {"text": given.credential_json})
    page = client.get("/backpack/").content.decode()
    assert 'data-registries="listed"' in page
    assert 'data-registry="Insignia test registry"' in page

    # The operator now consults no registry that lists it: the next check warns.
    settings.INSIGNIA_ISSUER_REGISTRIES = [{"name": "Elsewhere", "url": "own-nothing:"}]
    imported = ImportedBadge.objects.get()
    client.post("/backpack/imports/", {"action": "recheck", "id": str(imported.pk)})
    chinese = client.get("/backpack/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "未收录于任何受信任名录。" in chinese
    assert "Elsewhere 无法检查：" in chinese
    assert "本验证器无法读取的名录类型" in chinese
