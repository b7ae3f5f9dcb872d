"""Our verifier: an endorsement credential verifies on its own (pasted or by its URL on
/verify), a withdrawn one is revoked; a badge issued after an endorsement carries it whole,
still verifies, and its result page says "Endorsed by …" in English and Chinese; once the
endorsement is withdrawn the badge stays valid and the endorsement is reported withdrawn."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from badges.models import Award
from endorsements import services
from endorsements.models import Endorsement
from openbadges import jsonld, rdftemplate
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.endorsements.helpers import endorse_achievement, endorse_issuer
from tests.ob3api.helpers import strict_errors
from verification import pipeline
from verification.report import Report, Status, Verdict

pytestmark = pytest.mark.django_db


def _verify_text(document: dict[str, object]) -> Report:
    return pipeline.verify(pipeline.VerifyRequest(text=json.dumps(document)))


def test_an_endorsement_credential_verifies_and_once_withdrawn_is_revoked(cast: Cast) -> None:
    endorsement = endorse_issuer(cast)
    url = services.endorsement_url(endorsement.pk)

    pasted = _verify_text(endorsement.credential)
    by_url = pipeline.verify(pipeline.VerifyRequest(url=url))

    for report in (pasted, by_url):
        assert report.format == "ob3-endorsement"
        assert report.verdict is Verdict.VALID, [c.as_json() for c in report.checks]
        status = report.check("status")
        assert status is not None and status.code == "not_revoked"

    services.withdraw_endorsement(actor=cast.outsider, endorsement=endorsement)

    for report in (
        _verify_text(endorsement.credential),
        pipeline.verify(pipeline.VerifyRequest(url=url)),
    ):
        assert report.verdict is Verdict.REVOKED


def test_a_tampered_endorsement_comment_fails(cast: Cast) -> None:
    credential = endorse_issuer(cast).credential
    credential["credentialSubject"]["endorsementComment"] = "The best in the world"
    assert _verify_text(credential).verdict is Verdict.TAMPERED


def test_a_new_badge_carries_the_endorsements_and_still_verifies(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    of_issuer = endorse_issuer(cast)
    of_achievement = endorse_achievement(cast, version)
    before = award(cast.awarder, version, email="before@example.com")  # noqa: F841 - kept
    badge = award(cast.awarder, version, email="after@example.com")

    credential = badge.credential
    assert credential["issuer"]["endorsement"] == [of_issuer.credential]
    assert credential["credentialSubject"]["achievement"]["endorsement"] == [
        of_achievement.credential
    ]
    assert strict_errors(credential, "achievementcredential.json") == []  # 1EdTech's schema
    report = _verify_text(credential)
    assert report.verdict is Verdict.VALID, [c.as_json() for c in report.checks]
    check = report.check("endorsements")
    assert check is not None and check.status is Status.PASS
    assert check.endorsed_by == (cast.other_issuer.name_en, cast.other_issuer.name_en)
    assert check.as_json()["endorsed_by"] == [cast.other_issuer.name_en] * 2


def test_a_withdrawn_endorsement_inside_a_badge_is_reported(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    endorsement = endorse_issuer(cast)
    badge = award(cast.awarder, version)

    services.withdraw_endorsement(actor=cast.outsider, endorsement=endorsement)
    report = _verify_text(badge.credential)

    assert report.verdict is Verdict.VALID  # the badge itself is in good standing
    check = report.check("endorsements")
    assert check is not None
    assert (check.status, check.code) == (Status.WARN, "withdrawn")
    assert check.endorsed_by == ()
    assert "withdrawn by the endorser" in check.message
    # And badges issued afterwards no longer carry it.
    later = award(cast.awarder, version, email="later@example.com")
    assert "endorsement" not in later.credential["issuer"]


def test_the_signing_template_cache_falls_back_and_matches_pyld(cast: Cast) -> None:
    """A credential carrying an endorsement has an ``@context`` below the top, which the
    signing template cache never templates: it falls back to pyld, and the canonical form
    is pyld's byte for byte."""
    version = make_published(cast.editor, cast.issuer)
    endorse_issuer(cast)
    badge = award(cast.awarder, version)
    unsigned = {k: v for k, v in badge.credential.items() if k != "proof"}

    with rdftemplate.disabled():
        reference = jsonld.canonicalize(unsigned)
    templated = rdftemplate.canonicalize(unsigned)

    assert templated == reference
    assert "EndorsementCredential" in reference


@pytest.mark.parametrize(
    ("language", "endorsed", "title"),
    [("en", "Endorsed by {name}", "Endorsements"), ("zh-hans", "背书方：{name}", "背书")],
)
def test_the_verify_page_says_endorsed_by(
    cast: Cast, client: Client, language: str, endorsed: str, title: str
) -> None:
    version = make_published(cast.editor, cast.issuer)
    endorse_issuer(cast)
    badge = award(cast.awarder, version)
    client.cookies["insignia_language"] = language

    page = client.post(reverse("verify"), {"text": badge.credential_json}).content.decode()

    assert endorsed.format(name=cast.other_issuer.name_en) in page
    assert f'<span class="check-title">{title}</span>' in page


def test_stored_badges_keep_what_they_were_signed_with(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    badge = award(cast.awarder, version)
    endorse_issuer(cast)
    stored = Award.objects.get(pk=badge.pk)
    assert "endorsement" not in stored.credential["issuer"]
    assert Endorsement.objects.count() == 1


def test_a_status_list_signed_while_the_verification_runs_is_not_from_the_future(
    cast: Cast,
) -> None:
    """Our lists are signed on the request that finds them behind: a list signed a second
    after the verification started is still the issuer's current list."""
    endorsement = endorse_issuer(cast)
    started = endorsement.created_at + timedelta(milliseconds=500)
    time.sleep(1.2)  # the list is signed (on first request) at least a second later

    report = pipeline.verify(pipeline.VerifyRequest(text=endorsement.credential_json), now=started)

    status = report.check("status")
    assert status is not None and status.code == "not_revoked", status
    assert report.verdict is Verdict.VALID
