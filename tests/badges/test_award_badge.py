"""Awarding one badge: what is signed, stored and served, and what never leaks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client, override_settings

from achievements import services as achievement_services
from badges import selectors, services
from badges.models import Award, AwardEvidence
from issuers.keys import SigningUnavailable
from issuers.models import SigningKey
from openbadges import ob3, ob3check
from tests.badges.helpers import award, make_achievement, make_published, verify_served
from tests.base import Cast

pytestmark = pytest.mark.django_db


@override_settings(INSIGNIA_BASE_URL="https://badges.poly.example:8443")
def test_an_awarded_credential_verifies_with_the_key_the_server_publishes(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version)
    stored = json.loads(issued.credential_json)

    assert verify_served(client, stored)
    assert ob3check.check_credential(stored) == []
    assert stored["issuer"]["id"] == "did:web:badges.poly.example%3A8443:issuers:poly-engineering"
    assert stored["proof"][0]["verificationMethod"] == stored["issuer"]["id"] + "#key-1"
    assert stored["id"] == f"https://badges.poly.example:8443/credentials/{issued.pk}"


def test_the_credential_pins_the_version_it_was_awarded_under(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    first = award(cast.awarder, version)
    achievement_services.save_draft(
        actor=cast.editor, achievement=version.achievement, name_en="Data Lit II"
    )
    draft = selectors.draft_of(version.achievement)
    assert draft is not None
    second = award(
        cast.awarder, achievement_services.publish_version(actor=cast.editor, version=draft)
    )

    achievement_id = version.achievement_id
    assert first.credential["credentialSubject"]["achievement"]["version"] == "1"
    assert first.credential["credentialSubject"]["achievement"]["id"].endswith(
        f"/achievements/{achievement_id}/v/1"
    )
    assert first.credential["name"] == "Data Literacy"
    assert second.credential["credentialSubject"]["achievement"]["version"] == "2"
    assert second.credential["name"] == "Data Lit II"


def test_the_recipient_is_a_salted_hash_of_the_normalised_email(cast: Cast) -> None:
    issued = award(cast.awarder, make_published(cast.editor, cast.issuer))
    identity = issued.credential["credentialSubject"]["identifier"][0]

    assert len(bytes.fromhex(issued.salt)) >= 16
    assert identity["salt"] == issued.salt
    assert identity["identityHash"] == issued.recipient_email_hash
    assert ob3.email_matches("learner@example.com", identity)
    assert "learner@example.com" not in issued.credential_json.lower()
    assert issued.recipient_email == "learner@example.com"


def test_each_award_has_its_own_salt(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    one, two = award(cast.awarder, version), award(cast.awarder, version)
    assert one.salt != two.salt
    assert one.recipient_email_hash != two.recipient_email_hash


def test_evidence_narrative_and_validity_are_in_the_signed_credential(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer, validity_days=30)
    issued = award(
        cast.awarder,
        version,
        narrative="Built a dashboard.",
        evidence=[
            services.EvidenceItem(url="https://portfolio.example/lee", narrative="Portfolio"),
            services.EvidenceItem(narrative="Observed in class."),
            services.EvidenceItem(),
        ],
    )
    credential = issued.credential
    assert credential["credentialSubject"]["narrative"] == "Built a dashboard."
    assert [e.get("id") for e in credential["evidence"]] == ["https://portfolio.example/lee", None]
    assert [e["narrative"] for e in credential["evidence"]] == ["Portfolio", "Observed in class."]
    assert AwardEvidence.objects.filter(award=issued).count() == 2
    assert issued.valid_until == issued.valid_from + timedelta(days=30)
    assert credential["validUntil"] == ob3.format_datetime(issued.valid_from + timedelta(days=30))
    assert credential["awardedDate"] == credential["validFrom"]
    assert verify_served(client, credential)


def test_a_per_award_expiry_overrides_the_validity_period(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer, validity_days=30)
    until = datetime(2099, 1, 31, 23, 59, 59, tzinfo=UTC)
    issued = award(cast.awarder, version, valid_until=until)
    assert issued.credential["validUntil"] == "2099-01-31T23:59:59Z"


def test_without_a_validity_period_the_badge_does_not_expire(cast: Cast) -> None:
    issued = award(cast.awarder, make_published(cast.editor, cast.issuer, validity_days=None))
    assert "validUntil" not in issued.credential
    assert issued.valid_until is None


def test_a_chinese_credential_is_issued_in_chinese_with_in_language(cast: Cast) -> None:
    issued = award(cast.awarder, make_published(cast.editor, cast.issuer), language="zh-Hans")
    achievement = issued.credential["credentialSubject"]["achievement"]
    assert issued.credential["name"] == "数据素养"
    assert achievement["inLanguage"] == "zh-Hans"
    assert achievement["criteria"]["narrative"] == "期末评估成绩达到 **70%** 以上。"
    assert achievement["resultDescription"][0]["name"] == "最终成绩"
    assert issued.credential["issuer"]["name"] == "测试颁发单位"


def test_a_language_without_text_is_refused(cast: Cast) -> None:
    version = make_published(
        cast.editor, cast.issuer, name_zh="", description_zh="", criteria_zh=""
    )
    with pytest.raises(ValidationError, match="no complete text"):
        award(cast.awarder, version, language="zh-Hans")
    assert award(cast.awarder, version).language == "en"


def test_the_stored_json_is_never_rebuilt(client: Client, cast: Cast) -> None:
    issued = award(cast.awarder, make_published(cast.editor, cast.issuer))
    cast.issuer.name_en = "Renamed School"
    cast.issuer.save()
    response = client.get(f"/credentials/{issued.pk}.json")
    assert response.content == issued.credential_json.encode("utf-8")
    assert "Renamed School" not in response.content.decode()


def test_a_draft_cannot_be_awarded(cast: Cast) -> None:
    achievement = make_achievement(cast.editor, cast.issuer)
    draft = selectors.draft_of(achievement)
    assert draft is not None
    with pytest.raises(ValidationError, match="Only a published version"):
        award(cast.awarder, draft)
    assert not Award.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_viewers_and_outsiders_cannot_award(cast: Cast, role: str) -> None:
    version = make_published(cast.editor, cast.issuer)
    with pytest.raises(PermissionDenied):
        award(getattr(cast, role), version)
    assert not Award.objects.exists()


@override_settings(INSIGNIA_KEY_ENCRYPTION_KEY=None)
def test_without_a_key_encryption_key_nothing_is_signed_or_stored(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    with pytest.raises(SigningUnavailable, match="INSIGNIA_KEY_ENCRYPTION_KEY"):
        award(cast.awarder, version)
    assert not Award.objects.exists()
    assert not SigningKey.objects.exists()


def test_a_bad_evidence_link_is_refused(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    with pytest.raises(ValidationError, match="Evidence links"):
        award(cast.awarder, version, evidence=[services.EvidenceItem(url="portfolio/lee")])
    assert not Award.objects.exists()
