"""Our own credentials, presented exactly as stored: the database is the reference (issue 19).

The fast path skips canonicalization and the signature arithmetic, nothing else; the report
must be the one the full cryptographic path gives, whatever the award's state, the key's
status or the question asked. Each test runs both paths (``trust_stored`` on and off) at
the same moment and compares the whole report.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from awarding.revocation.services import revoke_award, suspend_award
from badges.models import Award
from issuers import services as issuer_services
from issuers.models import KeyStatus, SigningKey
from openbadges import dataintegrity
from tests.badges.helpers import award, make_published
from tests.base import Cast
from verification import own, pipeline, ratelimit
from verification.report import Verdict

pytestmark = pytest.mark.django_db


class Signatures:
    """Counts the signature checks the pipeline makes (the real check still runs)."""

    def __init__(self) -> None:
        self.checked = 0


@pytest.fixture
def signatures(monkeypatch: pytest.MonkeyPatch) -> Iterator[Signatures]:
    counter = Signatures()
    real = dataintegrity.verify_proof

    def counted(*args: Any, **kwargs: Any) -> Any:
        counter.checked += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(dataintegrity, "verify_proof", counted)
    yield counter


def both(
    asked: Callable[[bool], pipeline.VerifyRequest],
    now: datetime | None = None,
    signatures: Signatures | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fast and the full path's reports for the same question at the same moment; with
    ``signatures``, also that the fast path checked no signature."""
    moment = now or timezone.now()
    before = signatures.checked if signatures is not None else 0
    fast = pipeline.verify(asked(True), now=moment).as_json()
    if signatures is not None:
        assert signatures.checked == before
    full = pipeline.verify(asked(False), now=moment).as_json()
    return fast, full


def text(credential: str, email: str = "") -> Callable[[bool], pipeline.VerifyRequest]:
    return lambda trust: pipeline.VerifyRequest(text=credential, email=email, trust_stored=trust)


def several(cast: Cast) -> list[Award]:
    """Awards of three achievements (one with no expiry), to an address or an identifier."""
    first = make_published(cast.owner, cast.issuer)
    second = make_published(cast.owner, cast.issuer, slug="stats", name_en="Statistics")
    third = make_published(cast.owner, cast.issuer, slug="forever", validity_days=None)
    return [
        award(cast.awarder, first),
        award(cast.awarder, first, email="other@example.com", name="Ola Other"),
        award(cast.awarder, second),
        award(cast.awarder, third, name=""),
    ]


def test_every_state_gives_the_same_report_on_both_paths(
    cast: Cast, signatures: Signatures
) -> None:
    awards = several(cast)
    revoke_award(actor=cast.owner, award=awards[1], reason="Issued in error")
    suspend_award(actor=cast.owner, award=awards[2], reason="Under review")
    verdicts = []
    for given in awards:
        given.refresh_from_db()
        for email in ("", "learner@example.com", "someone@else.example"):
            for now in (
                timezone.now(),
                timezone.now() + timedelta(days=3650),  # expired, where it expires
                given.valid_from - timedelta(days=1),  # not yet valid
            ):
                fast, full = both(text(given.credential_json, email), now, signatures)
                assert fast == full
                verdicts.append(fast["verdict"])
    # Before validFrom the proof is dated in the future too: "invalid" on both paths.
    assert {"valid", "revoked", "suspended", "expired", "invalid", "not_recipient"} <= set(verdicts)
    # The full path checked a signature whenever it got that far (not when the proof is
    # dated after ``now``): the comparison above was against real checks.
    assert signatures.checked >= len(awards) * 3 * 2


def test_a_retired_key_still_verifies_and_a_withdrawn_one_fails_on_both_paths(
    cast: Cast,
) -> None:
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    issuer_services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)
    fast, full = both(text(given.credential_json))
    assert fast == full
    assert fast["verdict"] == "valid"

    SigningKey.objects.filter(pk=given.signing_key_id).update(status=KeyStatus.WITHDRAWN)
    fast, full = both(text(given.credential_json))
    assert fast == full
    assert fast["verdict"] == "invalid"
    assert [c["code"] for c in fast["checks"] if c["id"] == "issuer_key"] == ["key_withdrawn"]


def test_a_newer_version_and_a_url_give_the_same_report_on_both_paths(cast: Cast) -> None:
    from achievements import services
    from badges import selectors

    version = make_published(cast.owner, cast.issuer)
    given = award(cast.awarder, version)
    services.save_draft(actor=cast.owner, achievement=version.achievement, name_en="Data II")
    draft = selectors.draft_of(version.achievement)
    assert draft is not None
    services.publish_version(actor=cast.owner, version=draft, change_note="Renamed")
    fast, full = both(text(given.credential_json))
    assert fast == full
    assert "current version is 2" in fast["platform"]["version_note"]
    url = given.credential["id"]
    fast, full = both(lambda trust: pipeline.VerifyRequest(url=url, trust_stored=trust))
    assert fast == full
    assert fast["verdict"] == "valid"


def test_key_order_and_spacing_do_not_matter_but_any_change_takes_the_full_path(
    cast: Cast, signatures: Signatures
) -> None:
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    reordered = json.dumps(json.loads(given.credential_json), sort_keys=True, indent=1)
    assert own.stored_award(json.loads(reordered)) is not None
    fast, full = both(text(reordered))
    assert fast == full and fast["verdict"] == "valid"

    # One byte changed: no longer the stored text, so the signature is checked, and fails.
    stored = given.credential_json
    changed = stored.replace("Data Literacy", "Data LiteracY", 1)
    assert len(changed) == len(stored) and changed != stored
    assert own.stored_award(json.loads(changed)) is None
    before = signatures.checked
    fast, full = both(text(changed))
    assert signatures.checked == before + 2  # each path checked it
    assert fast == full
    assert fast["verdict"] == "tampered"


def test_numbers_and_booleans_that_python_calls_equal_are_different_json() -> None:
    document = {"id": "x", "a": 1}
    assert own._exact(document) != own._exact({"id": "x", "a": 1.0})
    assert own._exact(document) != own._exact({"id": "x", "a": True})
    assert own._exact({"b": 0.0}) != own._exact({"b": -0.0})
    assert own._exact({"a": 1, "b": [1, 2]}) == own._exact({"b": [1, 2], "a": 1})


def test_a_pending_award_without_signed_text_never_matches(cast: Cast) -> None:
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    document = json.loads(given.credential_json)
    Award.objects.filter(pk=given.pk).update(credential_json="")
    assert own.stored_award(document) is None


def test_the_stored_path_reads_few_rows(cast: Cast, django_assert_num_queries: Any) -> None:
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    asked = pipeline.VerifyRequest(text=given.credential_json)
    # The award with its issuer, version, achievement and signing key; the achievement's
    # latest published version (the report's version note). No canonicalization, no fetch.
    with django_assert_num_queries(2):
        report = pipeline.verify(asked)
    assert report.verdict is Verdict.VALID


def test_our_stored_credential_needs_no_slot_of_the_client_but_others_do(
    cast: Cast, client: Client, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_MAX_IN_FLIGHT_PER_CLIENT = 1
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    tampered = given.credential_json.replace("Data Literacy", "Data LiteracY", 1)
    with ratelimit.client_slot("127.0.0.1"):  # this client already has one running
        own_answer = client.post(
            "/api/v1/verify", {"credential": given.credential}, content_type="application/json"
        )
        other = client.post(
            "/api/v1/verify", {"credential": json.loads(tampered)}, content_type="application/json"
        )
    assert own_answer.status_code == 200
    assert own_answer.json()["verdict"] == "valid"
    assert other.status_code == 429


def test_our_stored_credential_still_counts_against_the_rate_limit(
    cast: Cast, client: Client, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_RATE_LIMIT = 8  # a burst of 5 per 10 seconds
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    answers = [
        client.post(
            "/api/v1/verify", {"credential": given.credential}, content_type="application/json"
        ).status_code
        for _ in range(6)
    ]
    assert answers == [200] * 5 + [429]


def test_with_no_process_slot_free_even_our_stored_credential_is_shed(
    cast: Cast, client: Client, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_MAX_IN_FLIGHT = 0
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    answer = client.post(
        "/api/v1/verify", {"credential": given.credential}, content_type="application/json"
    )
    assert answer.status_code == 429


def test_the_compiled_award_lookup_gives_what_the_orm_gives(cast: Cast) -> None:
    from django.forms.models import model_to_dict

    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    found = own.award_by_id(given.pk)
    expected = own._award_query(given.pk).get()
    assert found is not None
    pairs = [
        (found, expected),
        (found.issuer, expected.issuer),
        (found.achievement_version, expected.achievement_version),
        (found.achievement_version.achievement, expected.achievement_version.achievement),
        (found.signing_key, expected.signing_key),
        (found.signing_key.issuer, expected.signing_key.issuer),
    ]
    for mine, theirs in pairs:
        assert type(mine) is type(theirs)
        assert model_to_dict(mine) == model_to_dict(theirs)
        assert mine.pk == theirs.pk and not mine._state.adding
    assert own.award_by_id(uuid.uuid4()) is None
