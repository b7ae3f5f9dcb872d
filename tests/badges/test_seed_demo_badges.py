"""The demo data holds published micro-credentials and awards that verify."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from badges.models import Achievement, AchievementVersion, Award, VersionStatus
from tests.badges.helpers import verify_served

pytestmark = pytest.mark.django_db


def test_the_demo_has_published_micro_credentials_and_verifiable_awards(client: Client) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    counts = (
        Achievement.objects.count(),
        AchievementVersion.objects.count(),
        Award.objects.count(),
    )
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    # Issue #7 adds three micro-credentials placed in frameworks, a pathway certificate and
    # awards towards it (the pathway award itself follows on commit), one with partial credit;
    # issue 15 one award to a student number.
    assert counts == (6, 7, 8)
    assert counts == (
        Achievement.objects.count(),
        AchievementVersion.objects.count(),
        Award.objects.count(),
    )
    assert "demo-poly-engineering/cnc-fundamentals: 2 awarded" in out.getvalue()
    assert not AchievementVersion.objects.filter(status=VersionStatus.DRAFT).exists()
    for award in Award.objects.all():
        assert verify_served(client, award.credential)
    student = Award.objects.get(recipient_identifier="20261234")
    assert (student.recipient_email, student.recipient_identifier_type) == ("", "studentId")
    assert student.issuer.institution.slug == "demo-poly"
    assert not student.notifications.exists()  # no address: nothing to send
    chinese = Award.objects.get(language="zh-Hans")
    assert chinese.credential["name"] == "职场数据素养"
    cnc = Achievement.objects.get(slug="cnc-fundamentals")
    page = client.get(f"/achievements/{cnc.pk}").content.decode()
    assert "Tighter tolerance; valid for two years." in page
