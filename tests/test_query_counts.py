"""Query budgets of the list pages and public pages: each is pinned, and it does not grow with
the number of rows (STYLE.md; DESIGN.md §10 asks the console and the badge page to stay fast
at a million awards). Each test loads the page once to warm caches, counts its queries, adds
rows, and counts again.

A budget that fails after a change means a page started reading per row: fix the page (a
``select_related``, a ``prefetch_related``, one read for all rows), do not raise the number
unless the page really needs one more query for all its rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from awarding import services as awarding_services
from awarding.bulk import services as bulk_services
from awarding.revocation import services as revocation_services
from badges.models import Award, StatusEntry, StatusPurpose
from badges.tokens import services as token_services
from integrations.oauth import services as oauth_services
from issuers.models import Role
from tests.badges.helpers import award, make_published
from tests.base import Cast, add_member, make_user
from tests.earners.helpers import make_identity, make_learner
from webhooks import services as webhook_services
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def _count(client: Client, url: str, method: str = "get", **extra: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, **extra)
    assert response.status_code in (200, 201), (url, response.status_code)
    return len(captured.captured_queries)


def _budget(client: Client, url: str, grow: Callable[[], object]) -> tuple[int, int]:
    """The page's queries with the rows there are, and again after ``grow`` adds more."""
    _count(client, url)  # warm: content types, translations, the first membership read
    before = _count(client, url)
    grow()
    return before, _count(client, url)


def _each(make: Callable[[int], object], numbers: range) -> Callable[[], None]:
    """A ``grow`` that calls ``make(n)`` for each number."""

    def grow() -> None:
        for n in numbers:
            make(n)

    return grow


def _awards(cast: Cast, n: int, slug: str = "data-literacy") -> list[Award]:
    version = make_published(cast.editor, cast.issuer, slug=slug)
    return [award(cast.awarder, version, email=f"learner{i}@example.com") for i in range(n)]


@pytest.fixture
def steady_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Status indexes are drawn at random and a list's fullness is counted on a random
    sample of awards (``badges.statuslists.services``): both cost a query now and then. Drawn
    from a seeded generator and never sampled, the budget of an award is exact."""
    import random
    import secrets

    from badges.statuslists import services as statuslist_services

    monkeypatch.setattr(statuslist_services, "_random", random.Random(7))  # noqa: S311 - a test
    monkeypatch.setattr(secrets, "randbelow", lambda n: 1)


def _owner(client: Client, cast: Cast) -> Client:
    client.force_login(cast.owner)
    return client


# --------------------------------------------------------------------------------------------
# Console lists
# --------------------------------------------------------------------------------------------


def test_the_achievements_list_reads_the_same_for_one_or_many(client: Client, cast: Cast) -> None:
    _owner(client, cast)
    make_published(cast.editor, cast.issuer, slug="first")
    url = reverse("manage:achievements", args=[cast.institution.slug])
    # session, user, institution, memberships; achievements with issuers, their versions.
    assert _budget(
        client,
        url,
        lambda: [make_published(cast.editor, cast.issuer, slug=f"more-{i}") for i in range(4)],
    ) == (6, 6)


def test_the_awards_list_reads_the_same_for_one_or_many(client: Client, cast: Cast) -> None:
    _owner(client, cast)
    _awards(cast, 1)
    url = reverse("manage:awards", args=[cast.institution.slug])
    # session, user, institution, memberships; the filters' choices (issuers, micro-credentials
    # and their versions, uploads); one page of awards with issuer, version and achievement;
    # their e-mails (one prefetch); the capped count; the menu's membership check.
    assert _budget(client, url, lambda: _awards(cast, 5, slug="second")) == (12, 12)


def test_the_issuers_list_reads_the_same_for_one_or_many(client: Client, cast: Cast) -> None:
    from tests.base import make_issuer

    _owner(client, cast)
    url = reverse("manage:issuers", args=[cast.institution.slug])
    assert _budget(
        client,
        url,
        lambda: [make_issuer(cast.institution, f"school-{i}", cast.owner) for i in range(3)],
    ) == (5, 5)


def test_the_members_page_reads_the_same_for_one_or_many(client: Client, cast: Cast) -> None:
    _owner(client, cast)
    url = reverse("manage:members", args=[cast.institution.slug])

    def grow() -> None:
        for i in range(4):
            add_member(make_user(f"staff{i}@poly.example"), cast.institution, Role.VIEWER)

    assert _budget(client, url, grow) == (7, 7)


def test_the_activity_page_reads_the_same_for_few_or_many_events(
    client: Client, cast: Cast
) -> None:
    _owner(client, cast)
    url = reverse("manage:audit", args=[cast.institution.slug])
    assert _budget(client, url, lambda: _awards(cast, 5)) == (5, 5)


def test_the_api_tokens_page_reads_the_same_for_one_or_many(client: Client, cast: Cast) -> None:
    _owner(client, cast)
    make_published(cast.editor, cast.issuer)
    url = reverse("manage:api_tokens", args=[cast.institution.slug, cast.issuer.slug])

    def grow() -> None:
        for i in range(4):
            token_services.create_api_token(actor=cast.owner, issuer=cast.issuer, name=f"SIS {i}")

    assert _budget(client, url, grow) == (7, 7)


def test_a_bulk_upload_page_reads_the_same_for_few_or_many_rows(client: Client, cast: Cast) -> None:
    _owner(client, cast)
    version = make_published(cast.editor, cast.issuer)

    def upload(n: int) -> str:
        rows = "".join(f"learner{i}@example.com,Learner {i}\n" for i in range(n))
        batch = bulk_services.create_batch(
            actor=cast.owner,
            version=version,
            file_name="x.csv",
            data=f"Email,Name\n{rows}".encode(),
        )
        return reverse("manage:bulk_batch", args=[cast.institution.slug, batch.pk])

    few, many = upload(2), upload(40)
    _count(client, few)
    # 11: a draft also reads the policies that apply today (placement, policies, choices).
    assert _count(client, few) == _count(client, many) == 11


def test_the_dashboard_reads_the_same_for_few_or_many_awards(client: Client, cast: Cast) -> None:
    _owner(client, cast)
    _awards(cast, 1)
    url = reverse("manage:dashboard", args=[cast.institution.slug])
    assert _budget(client, url, lambda: _awards(cast, 5, slug="second")) == (7, 7)


def _course_badges(cast: Cast, n: int, slug: str) -> None:
    """``n`` badges placed in a course of a registered LMS, each with a flagged award."""
    from lti.models import Course, Grant, GrantStatus, Placement, Platform, Rule

    platform, _ = Platform.objects.get_or_create(
        institution=cast.institution,
        issuer="https://lms.example",
        client_id="insignia",
        defaults={
            "name": "Moodle",
            "auth_login_url": "https://lms.example/auth",
            "auth_token_url": "https://lms.example/token",
            "key_set_url": "https://lms.example/jwks",
        },
    )
    course, _ = Course.objects.get_or_create(
        platform=platform, deployment_id="1", context_id="c1", defaults={"title": "Welding"}
    )
    for i, made in enumerate(_awards(cast, n, slug=slug)):
        placement = Placement.objects.create(
            course=course,
            achievement=made.achievement_version.achievement,
            rule=Rule.SCORE,
            min_score=80,
            title=f"{slug} {i}",
            created_by=cast.awarder,
        )
        Grant.objects.create(
            placement=placement,
            course=course,
            line_item=f"https://lms.example/li/{slug}{i}",
            achievement=placement.achievement,
            lms_user_id=f"u{i}",
            award=made,
            status=GrantStatus.REVIEW,
        )


def test_the_course_badges_page_reads_the_same_for_few_or_many(client: Client, cast: Cast) -> None:
    _owner(client, cast)
    _course_badges(cast, 1, "first")
    url = reverse("manage:lti", args=[cast.institution.slug])
    before, after = _budget(client, url, lambda: _course_badges(cast, 4, "second"))
    assert before == after


# --------------------------------------------------------------------------------------------
# Public pages and the API
# --------------------------------------------------------------------------------------------


def test_the_badge_page_has_a_fixed_budget(client: Client, cast: Cast) -> None:
    (first,) = _awards(cast, 1)
    url = reverse("credential", args=[first.pk])
    # the state version (one query); the page itself comes from the cache; the view counted
    # (no Redis in tests: an INSERT in a savepoint). tests/sharing/test_page_queries.py pins
    # every public page cold and warm with Redis counting.
    assert _budget(client, url, lambda: _awards(cast, 5, slug="second")) == (4, 4)
    # The exact JSON: the award, and the view counted.
    assert _count(client, url, HTTP_ACCEPT="application/ld+json") == 4


def test_the_achievement_page_reads_the_same_for_one_or_many_versions(
    client: Client, cast: Cast
) -> None:
    from achievements import services as achievement_services
    from badges import selectors

    version = make_published(cast.editor, cast.issuer)
    achievement = version.achievement
    url = reverse("achievement", args=[achievement.pk])

    def grow() -> None:
        for i in range(3):
            achievement_services.save_draft(
                actor=cast.editor, achievement=achievement, name_en=f"Data Literacy {i}"
            )
            draft = selectors.draft_of(achievement)
            assert draft is not None
            achievement_services.publish_version(actor=cast.editor, version=draft)

    # + the versions' placements, for the diff; + the achievement's endorsements.
    assert _budget(client, url, grow) == (4, 4)


def test_the_issuer_profile_reads_the_same_for_one_or_many_achievements(
    client: Client, cast: Cast
) -> None:
    make_published(cast.editor, cast.issuer, slug="first")
    url = reverse("issuer_profile", args=[cast.issuer.slug])
    assert _budget(
        client,
        url,
        lambda: [make_published(cast.editor, cast.issuer, slug=f"more-{i}") for i in range(4)],
    ) == (3, 3)  # the issuer, its published achievements, its endorsements


def test_the_backpack_reads_the_same_for_one_or_many_badges(client: Client, cast: Cast) -> None:
    learner = make_learner("lee@example.com")
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="lee@example.com")
    client.force_login(learner)
    url = reverse("earners:backpack")

    def grow() -> None:
        for i in range(4):
            other = make_published(cast.editor, cast.issuer, slug=f"more-{i}")
            award(cast.awarder, other, email="lee@example.com")

    # session, user; the learner's addresses; their awards with preferences, issuers and
    # versions; unconfirmed addresses; imported badges.
    assert _budget(client, url, grow) == (6, 6)


def test_the_backpack_reads_the_same_with_awards_to_student_numbers(
    client: Client, cast: Cast
) -> None:
    learner = make_learner("lee@example.com")
    make_identity(learner, cast.institution, "20261234")
    make_identity(learner, cast.other_institution, "R-77")
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="", identifier_type="studentId", identifier="20261234")
    client.force_login(learner)
    url = reverse("earners:backpack")

    def grow() -> None:
        for i in range(4):
            other = make_published(cast.editor, cast.issuer, slug=f"more-{i}")
            award(cast.awarder, other, email="lee@example.com")
            award(cast.awarder, other, email="", identifier_type="studentId", identifier="20261234")

    # The same six: the addresses and the identities are read in one query.
    assert _budget(client, url, grow) == (6, 6)


def test_the_awarding_api_writes_the_same_for_one_or_many_awards(
    client: Client, cast: Cast, steady_draws: None
) -> None:
    version = make_published(cast.editor, cast.issuer)
    _token, key = token_services.create_api_token(actor=cast.owner, issuer=cast.issuer, name="SIS")
    url = reverse("api_award_achievement", args=[version.achievement_id])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}", "content_type": "application/json"}

    def post(n: int, start: int) -> int:
        body = {"awards": [{"email": f"api{start + i}@example.com"} for i in range(n)]}
        return _count(client, url, "post", data=body, **auth)

    post(1, 0)  # warm: the issuer's key and status lists are created once
    # 17 + 1: the awards' webhook events, one INSERT for all of them (events.services); + 1:
    # the endorsements the credentials carry (endorsements.selectors.embedded_for).
    assert post(1, 10) == post(20, 100) == 19


def test_a_status_list_reads_the_same_for_few_or_many_revocations(
    client: Client, cast: Cast
) -> None:
    given = _awards(cast, 6)
    entry = StatusEntry.objects.get(award=given[0], purpose=StatusPurpose.REVOCATION)
    url = reverse("status_list", args=[entry.status_list_id])
    _count(client, url)  # signed a first time (which also reads the issuer's active key)
    revocation_services.revoke_award(actor=cast.editor, award=given[0], reason="Error")
    before = _count(client, url)  # signed again from the stored bits after the change
    for other in given[1:]:
        revocation_services.revoke_award(actor=cast.editor, award=other, reason="Error")
    after = _count(client, url)
    # The list read, then under its lock (a savepoint here) the list with its key, and the
    # signed list written: no query per entry (badges.statuslists.serving).
    assert before == after == 5
    assert _count(client, url) == 1  # current now: served as stored


def test_one_award_stays_within_its_budget(cast: Cast, steady_draws: None) -> None:
    """The award path itself: memberships, the placement and the institution's policies, the
    active key, the issuer's two open status lists and their entries, the award, its webhook
    event (``award.issued``, written whether or not the institution has an endpoint: checking
    would cost the same query), its audit row and its e-mail, and the endorsements the
    credential carries, in one transaction."""
    version = make_published(cast.editor, cast.issuer)
    awarding_services.award_badge(actor=cast.awarder, version=version, email="warm@example.com")
    with CaptureQueriesContext(connection) as captured:
        awarding_services.award_badge(actor=cast.awarder, version=version, email="lee@example.com")
    assert len(captured.captured_queries) == 15


def test_the_pathways_page_reads_the_same_for_one_or_many(client: Client, cast: Cast) -> None:
    from frameworks.pathways import services as pathway_services
    from frameworks.pathways.trees import GroupSpec

    _owner(client, cast)
    parts = [make_published(cast.editor, cast.issuer, slug=f"part-{i}") for i in range(2)]

    def pathway(n: int) -> None:
        target = make_published(cast.editor, cast.issuer, slug=f"target-{n}")
        pathway_services.create_pathway(
            actor=cast.editor,
            institution=cast.institution,
            title_en=f"Pathway {n}",
            target=target.achievement,
            root=GroupSpec(rule="all", achievements=[p.achievement for p in parts]),
        )

    pathway(0)
    url = reverse("manage:pathways", args=[cast.institution.slug])
    assert _budget(client, url, _each(pathway, range(1, 4))) == (6, 6)


def test_the_recognition_cases_page_reads_the_same_for_one_or_many(
    client: Client, cast: Cast
) -> None:
    from frameworks.recognition import services as recognition_services

    _owner(client, cast)
    module = make_published(cast.editor, cast.issuer).achievement

    def case(n: int) -> None:
        recognition_services.open_case(
            actor=cast.editor,
            institution=cast.institution,
            learner_email=f"applicant{n}@example.com",
            module=module,
        )

    case(0)
    url = reverse("manage:recognition", args=[cast.institution.slug])
    assert _budget(client, url, _each(case, range(1, 5))) == (
        9,
        9,
    )  # the names of the micro-credentials (one prefetch)


def test_the_identity_changes_page_reads_the_same_for_one_or_many(
    client: Client, cast: Cast
) -> None:
    from earners.identity import services as identity_services

    _owner(client, cast)
    learner = make_learner("lee@example.com", "lee@work.example")

    def change(n: int) -> None:
        version = make_published(cast.editor, cast.issuer, slug=f"badge-{n}")
        given = award(cast.awarder, version, email="lee@example.com")
        identity_services.request_identity_change(
            user=learner, award=given, new_email="lee@work.example"
        )

    change(0)
    url = reverse("manage:identity_changes", args=[cast.institution.slug])
    assert _budget(client, url, _each(change, range(1, 4))) == (5, 5)


def test_the_equivalences_page_reads_the_same_for_one_or_many(client: Client, cast: Cast) -> None:
    import datetime

    from frameworks.equivalence import services as equivalence_services

    _owner(client, cast)
    module = make_published(cast.editor, cast.issuer).achievement

    def statement(n: int) -> None:
        equivalence_services.create_statement(
            actor=cast.editor,
            institution=cast.institution,
            data=equivalence_services.StatementData(
                provider_name=f"Provider {n}",
                title=f"Data Literacy {n}",
                rationale="Same outcomes, checked module by module.",
                valid_from=datetime.date(2026, 1, 1),
                local_achievement=module,
            ),
        )

    statement(0)
    url = reverse("manage:equivalences", args=[cast.institution.slug])
    assert _budget(client, url, _each(statement, range(1, 5))) == (
        6,
        6,
    )  # the names of the micro-credentials (one prefetch)


def test_the_frameworks_page_reads_the_same_for_one_or_many_competency_frameworks(
    client: Client, cast: Cast
) -> None:
    from frameworks.competencies import services as competency_services

    _owner(client, cast)

    def framework(n: int) -> None:
        competency_services.create_competency_framework(
            actor=cast.editor, institution=cast.institution, title_en=f"Skills {n}"
        )

    framework(0)
    url = reverse("manage:frameworks", args=[cast.institution.slug])
    assert _budget(client, url, _each(framework, range(1, 4))) == (10, 10)  # + issuers (scopes)


def test_the_api_clients_page_reads_the_same_for_one_or_many(client: Client, cast: Cast) -> None:
    _owner(client, cast)
    url = reverse("manage:api_clients", args=[cast.institution.slug])

    def grow(numbers: range = range(1, 5)) -> None:
        for i in numbers:
            oauth_services.register_client(
                actor=cast.owner,
                institution=cast.institution,
                name=f"SIS {i}",
                grant_type="client-credentials",
                scopes=["awards:read"],
                issuers=[cast.issuer],
            )

    grow(range(1))
    assert _budget(client, url, grow) == (8, 8)


def test_the_webhooks_pages_read_the_same_for_one_or_many(client: Client, cast: Cast) -> None:
    _owner(client, cast)
    endpoint = Endpoint.objects.create(
        institution=cast.institution, url="https://hooks.example/in", secret="whsec_dGVzdA=="
    )
    endpoint.issuers.set([cast.issuer])
    webhook_services.send_test_event(actor=cast.owner, endpoint=endpoint)
    listed = reverse("manage:webhooks", args=[cast.institution.slug])
    detail = reverse("manage:webhook_detail", args=[cast.institution.slug, endpoint.pk])

    def more_endpoints() -> None:
        for i in range(4):
            made = Endpoint.objects.create(
                institution=cast.institution,
                url=f"https://hooks.example/{i}",
                secret="whsec_dGVzdA==",
            )
            made.issuers.set([cast.issuer])

    def more_deliveries() -> None:
        for _ in range(4):
            webhook_services.send_test_event(actor=cast.owner, endpoint=endpoint)

    assert _budget(client, listed, more_endpoints) == (6, 6)
    assert _budget(client, detail, more_deliveries) == (7, 7)
