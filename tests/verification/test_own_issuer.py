"""Credentials of this platform's issuers: keys and state from the database, no HTTP."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from achievements import services
from badges import selectors
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.verification.conftest import Tripwire
from verification import pipeline
from verification.report import Verdict

pytestmark = pytest.mark.django_db


def test_a_demo_badge_url_verifies_as_valid_without_any_http(
    cast: Cast, tripwire: Tripwire
) -> None:
    version = make_published(cast.owner, cast.issuer)
    given = award(cast.awarder, version)
    url = given.credential["id"]
    report = pipeline.verify(pipeline.VerifyRequest(url=url))
    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.claims["issuer"]["name"] == cast.issuer.name_en
    assert report.claims["issuer"]["domain_verified"] is True
    assert report.own is not None
    assert report.own["issued_version"] == 1
    assert tripwire.connections == []


def test_pasted_json_of_our_credential_is_valid_and_names_the_version(cast: Cast) -> None:
    version = make_published(cast.owner, cast.issuer)
    given = award(cast.awarder, version)
    services.save_draft(
        actor=cast.owner, achievement=version.achievement, name_en="Data Literacy II"
    )
    draft = selectors.draft_of(version.achievement)
    assert draft is not None
    services.publish_version(actor=cast.owner, version=draft, change_note="Renamed")
    report = pipeline.verify(pipeline.VerifyRequest(text=given.credential_json))
    assert report.verdict is Verdict.VALID
    assert report.own is not None
    assert report.own["version_note"] == "Issued under version 1; the current version is 2."


def test_a_tampered_copy_says_the_content_changed_after_signing(cast: Cast) -> None:
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    document = copy.deepcopy(given.credential)
    document["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    report = pipeline.verify(pipeline.VerifyRequest(text=json.dumps(document)))
    assert report.verdict is Verdict.TAMPERED
    assert "changed after" in report.headline


def test_the_wrong_email_is_not_this_recipient_and_the_right_one_matches(cast: Cast) -> None:
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    wrong = pipeline.verify(
        pipeline.VerifyRequest(text=given.credential_json, email="someone@else.example")
    )
    assert wrong.verdict is Verdict.NOT_RECIPIENT
    right = pipeline.verify(
        pipeline.VerifyRequest(text=given.credential_json, email="  LEARNER@example.com ")
    )
    assert right.verdict is Verdict.VALID
    assert "learner@example.com" not in json.dumps(right.as_json()).lower()


def test_an_expired_award_is_expired(cast: Cast) -> None:
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    report = pipeline.verify(
        pipeline.VerifyRequest(text=given.credential_json),
        now=timezone.now() + timedelta(days=3650),
    )
    assert report.verdict is Verdict.EXPIRED


def test_a_withdrawn_key_no_longer_verifies(cast: Cast) -> None:
    from issuers.services import withdraw_signing_key

    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    withdraw_signing_key(actor=cast.owner, key=given.signing_key)
    report = pipeline.verify(pipeline.VerifyRequest(text=given.credential_json))
    assert report.verdict is Verdict.INVALID
    check = report.check("issuer_key")
    assert check is not None and check.code == "key_withdrawn"


def test_our_own_documents_are_read_in_process_and_only_public_ones(
    cast: Cast, tripwire: Tripwire
) -> None:
    from django.conf import settings

    from verification import fetcher

    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    did = fetcher.fetch(settings.INSIGNIA_BASE_URL + f"/issuers/{cast.issuer.slug}/did.json")
    assert did.status == 200
    assert json.loads(did.body)["assertionMethod"]
    console = fetcher.fetch(settings.INSIGNIA_BASE_URL + "/manage/")
    assert console.status == 404
    assert given.credential_json
    assert tripwire.connections == []


def test_our_ob2_hosted_assertion_url_verifies(cast: Cast, tripwire: Tripwire) -> None:
    from django.conf import settings
    from django.urls import reverse

    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    url = settings.INSIGNIA_BASE_URL + reverse("ob2_assertion", args=[given.pk])
    report = pipeline.verify(pipeline.VerifyRequest(url=url, email="learner@example.com"))
    assert report.format == "ob2-hosted"
    assert report.verdict is Verdict.VALID, report.as_json()
    assert tripwire.connections == []


def test_a_revoked_award_is_revoked_with_its_reason(cast: Cast) -> None:
    from awarding.revocation.services import revoke_award

    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    revoke_award(actor=cast.owner, award=given, reason="Issued in error")
    report = pipeline.verify(pipeline.VerifyRequest(text=given.credential_json))
    assert report.verdict is Verdict.REVOKED
    check = report.check("status")
    assert check is not None and "Issued in error" in check.message
