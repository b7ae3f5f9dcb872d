"""The awards of the REST API v1: lists with filters and stable cursor paging, each award's
state and the learner's claim state, revoking by a client acting for itself, and the guarded
bulk revocation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from awarding.revocation import services as revocation_services
from badges import services as badge_services
from badges.models import Award, AwardNotification, AwardStatus, NotificationKind
from issuers.models import AuditAction, AuditEvent
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.integrations.test_api_helpers import api, make_world, oauth_auth, staff_auth

pytestmark = pytest.mark.django_db


def _all_pages(client: Any, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        found.extend(response.json()["results"])
        url = response.json()["next"]
    return found


def test_a_client_pages_through_every_award_once_in_a_stable_order(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    given = [award(cast.awarder, version, email=f"l{n}@example.com") for n in range(7)]
    client = api(oauth_auth(cast.owner, cast.institution, "awards:read"))

    first = client.get("/api/v1/awards?limit=3").json()
    listed = _all_pages(client, "/api/v1/awards?limit=3")

    assert len(first["results"]) == 3 and first["next"]
    assert "cursor=" in first["next"] and "limit=3" in first["next"]
    assert sorted(a["id"] for a in listed) == sorted(str(a.pk) for a in given)
    assert [(a["updated_at"], a["id"]) for a in listed] == sorted(
        (a["updated_at"], a["id"]) for a in listed
    )
    # A change moves the award to the end: a client that kept its cursor sees it again.
    second = client.get(first["next"]).json()
    assert second["next"] is not None
    revocation_services.revoke_award(actor=cast.editor, award=given[0], reason="Error")
    after = _all_pages(client, second["next"])
    assert [a["id"] for a in after][-1] == str(given[0].pk)
    assert after[-1]["state"] == "revoked"
    assert len(after) == 2  # the last unseen one, then the changed one


def test_filters_by_state_email_achievement_and_time(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    other = make_published(cast.editor, cast.issuer, slug="other")
    issued = award(cast.awarder, version, email="issued@example.com")
    claimed = badge_services.claim_award(award=award(cast.awarder, version, email="c@example.com"))
    revoked = award(cast.awarder, version, email="r@example.com")
    revocation_services.revoke_award(actor=cast.editor, award=revoked, reason="Error")
    suspended = award(cast.awarder, other, email="s@example.com")
    revocation_services.suspend_award(actor=cast.editor, award=suspended, reason="Review")
    expired = award(cast.awarder, other, email="e@example.com")
    Award.objects.filter(pk=expired.pk).update(valid_until=timezone.now() - timedelta(days=1))
    client = api(staff_auth(cast.viewer))

    def ids(query: str) -> list[str]:
        response = client.get(f"/api/v1/awards?{query}")
        assert response.status_code == 200, response.content
        return [a["id"] for a in response.json()["results"]]

    assert ids("state=issued") == [str(issued.pk)]
    assert ids("state=claimed") == [str(claimed.pk)]
    assert ids("state=revoked") == [str(revoked.pk)]
    assert ids("state=suspended") == [str(suspended.pk)]
    assert ids("state=expired") == [str(expired.pk)]
    assert ids("email=R@Example.com") == [str(revoked.pk)]
    assert sorted(ids(f"achievement={other.achievement_id}")) == sorted(
        [str(suspended.pk), str(expired.pk)]
    )
    claimed.refresh_from_db()
    assert str(claimed.pk) in ids(
        f"updated_since={claimed.updated_at.isoformat()}".replace("+", "%2B")
    )
    assert ids("updated_since=2999-01-01T00:00:00Z") == []
    assert len(ids("created_until=2999-01-01T00:00:00Z&issuer=poly-engineering")) == 5
    assert ids("issuer=rival-arts") == []
    refused = client.get("/api/v1/awards?achievment=x")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid"
    assert "achievment" in refused.json()["error"]["details"]


def test_an_award_shows_the_learners_claim_state(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    given = award(cast.awarder, version, email="lee@example.com")
    sent = timezone.now() - timedelta(hours=2)
    AwardNotification.objects.create(
        award=given, kind=NotificationKind.ISSUED, key=f"issued:{given.pk}", sent_at=sent
    )
    client = api(staff_auth(cast.viewer))

    before = client.get(f"/api/v1/awards/{given.pk}").json()
    badge_services.claim_award(award=given)
    after = client.get(f"/api/v1/awards/{given.pk}").json()

    assert before["state"] == "issued"
    assert before["claim"]["claimed"] is False
    assert before["claim"]["email_sent_at"] == sent.isoformat()
    assert before["claim"]["email_opened_at"] is None
    assert after["state"] == "claimed"
    assert after["claim"]["claimed"] is True
    assert after["claim"]["email_opened_at"] == after["claim"]["claimed_at"]
    assert after["updated_at"] > before["updated_at"]
    assert [e["statusPurpose"] for e in after["credential_status"]] == [
        "revocation",
        "suspension",
    ]


def test_a_page_costs_the_same_queries_whatever_its_size(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    version = make_published(cast.editor, cast.issuer)
    for n in range(12):
        given = award(cast.awarder, version, email=f"q{n}@example.com")
        AwardNotification.objects.create(
            award=given, kind=NotificationKind.ISSUED, key=f"k{n}", sent_at=timezone.now()
        )
    client = api(staff_auth(cast.viewer))
    client.get("/api/v1/awards?limit=1")  # the token's first use is noted once a minute

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    assert count("/api/v1/awards?limit=2") == count("/api/v1/awards?limit=12")
    with django_assert_max_num_queries(4):  # token, the page, its e-mails; nothing per row
        client.get("/api/v1/awards?limit=200")


def test_a_client_acting_for_itself_revokes_and_the_audit_log_names_it(cast: Cast) -> None:
    given = award(cast.awarder, make_published(cast.editor, cast.issuer))
    reader = api(oauth_auth(cast.owner, cast.institution, "awards:read", name="Reader"))
    revoker = api(oauth_auth(cast.owner, cast.institution, "awards:revoke", name="Registry"))

    refused = reader.post(
        f"/api/v1/awards/{given.pk}/revoke", {"reason": "x"}, content_type="application/json"
    )
    done = revoker.post(
        f"/api/v1/awards/{given.pk}/revoke",
        {"reason": "Awarded in error"},
        content_type="application/json",
    )

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "revoked"
    assert done.json()["reason"] == "Awarded in error"
    event = AuditEvent.objects.get(action=AuditAction.AWARD_REVOKED)
    assert event.actor is None
    assert event.data["client"] == "oauth: Registry"
    assert event.data["via"] == "api"


def _revoke_many(client: Any, cast: Cast, **fields: Any) -> Any:
    return client.post(
        f"/api/v1/institutions/{cast.institution.slug}/awards/revoke",
        fields,
        content_type="application/json",
    )


def test_a_misspelt_criterion_revokes_nothing(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    given = [award(cast.awarder, version, email=f"m{n}@example.com") for n in range(3)]
    client = api(staff_auth(cast.editor))

    response = _revoke_many(
        client,
        cast,
        achievment=str(version.achievement_id),
        awarded_from="2000-01-01T00:00:00Z",
        reason="Cohort cancelled",
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"achievment": ["Unknown field."]}
    assert all(
        a.status == AwardStatus.ACTIVE for a in Award.objects.filter(pk__in=[g.pk for g in given])
    )


def test_many_awards_are_revoked_only_when_the_count_is_confirmed(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    for n in range(11):
        award(cast.awarder, version, email=f"b{n}@example.com")
    client = api(staff_auth(cast.editor))
    criteria = {"achievement": str(version.achievement_id), "reason": "Cohort cancelled"}

    dry = _revoke_many(client, cast, dry_run=True, **criteria)
    unconfirmed = _revoke_many(client, cast, **criteria)
    wrong = _revoke_many(client, cast, expected_count=10, **criteria)
    assert not Award.objects.filter(status=AwardStatus.REVOKED).exists()
    confirmed = _revoke_many(client, cast, expected_count=11, **criteria)

    assert dry.status_code == 200, dry.content
    assert (dry.json()["matched"], dry.json()["to_revoke"], dry.json()["revoked"]) == (11, 11, 0)
    assert len(dry.json()["sample"]) == 10
    assert unconfirmed.status_code == wrong.status_code == 409
    assert unconfirmed.json()["error"]["code"] == "count_mismatch"
    assert unconfirmed.json()["error"]["details"]["matched"] == 11
    assert wrong.json()["error"]["details"] == {"matched": 11, "expected_count": 10}
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["revoked"] == 11
    assert Award.objects.filter(status=AwardStatus.REVOKED).count() == 11


def test_a_narrowed_token_revokes_only_within_its_issuer(cast: Cast) -> None:
    world = make_world(cast)
    narrowed = api(
        oauth_auth(cast.owner, cast.institution, f"awards:revoke issuer:{world.sibling.slug}")
    )

    response = _revoke_many(
        narrowed, cast, credentials=[str(a.pk) for a in world.awards], reason="Not yours"
    )

    assert response.status_code == 200, response.content
    assert response.json()["matched"] == 0
    assert not Award.objects.filter(status=AwardStatus.REVOKED).exists()
    foreign = api(oauth_auth(cast.outsider, cast.other_institution, "awards:revoke"))
    assert (
        _revoke_many(
            foreign, cast, achievement=str(world.version.achievement_id), reason="x"
        ).status_code
        == 404
    )
