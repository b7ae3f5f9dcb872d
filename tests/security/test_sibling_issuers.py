"""Least privilege inside an institution (issue 18, item 4): staff given one issuer, and
credentials limited to one issuer, read and change nothing of a sibling issuer of the same
institution: its learners' names and e-mails, its awards, uploads, results, tokens, figures.

Two columns, each a table with a verdict per route and a test that fails on a route without
one: the console's (``tests.issuers.test_tenant_isolation.SIBLING``: every console URL, asked
by the sibling issuer's owner, editor, awarder and viewer) and the API's (:data:`API_SIBLING`:
every route of the REST API v1, the OAuth server and the Open Badges 3.0 API, called with every
kind of credential limited to the sibling issuer).

Run with ``-s`` to see the figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from badges.models import Achievement, AchievementVersion, Award, BulkBatch
from integrations.urls import oauth_patterns
from integrations.urls import urlpatterns as integration_patterns
from issuers.models import AuditEvent, Invitation, Membership, Role
from ob3api.urls import urlpatterns as ob3_patterns
from tests.base import Cast, make_user
from tests.integrations.test_api_helpers import (
    EVERY_SCOPE,
    World,
    api,
    issuer_auth,
    make_world,
    oauth_auth,
    staff_auth,
)
from tests.integrations.test_api_isolation import ROUTES, api_routes
from tests.issuers.test_tenant_isolation import SIBLING, sibling_column
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

# What a credential limited to the sibling issuer gets, for reads (GET) and for writes:
REFUSED = "refused"  # 403 or 404 (a write may also be 400: "name an issuer you reach")
OWN_ONLY = "own issuers only"  # 200 (or 403): a list of the credential's own issuers' objects
SHARED = "shared"  # no institution's data at all, by design (see why): public or personal


@dataclass(frozen=True)
class ApiSibling:
    """One API route's verdict for reads and for writes, and why it is the right one."""

    read: str
    write: str
    why: str


RECORD = ApiSibling(REFUSED, REFUSED, "the victim issuer's record: 404 out of reach (or 403)")
LIST = ApiSibling(OWN_ONLY, REFUSED, "lists the issuers in reach only; a write names the victim's")
PUBLIC = ApiSibling(SHARED, SHARED, "public: anyone gets the same answer")
OAUTH = ApiSibling(SHARED, SHARED, "the OAuth server: a client's own tokens, no records")
WALLET = ApiSibling(
    SHARED, SHARED, "the Open Badges API: a learner's wallet only; institution credentials refused"
)

API_SIBLING: dict[str, ApiSibling] = {
    "api_issuers": ApiSibling(OWN_ONLY, OWN_ONLY, "the issuers the credential reaches"),
    "api_achievements": LIST,
    "api_achievement": RECORD,
    "api_achievement_draft": RECORD,
    "api_achievement_publish": RECORD,
    "api_versions": RECORD,
    "api_version": RECORD,
    "api_award_achievement": RECORD,
    "api_awards": LIST,
    "api_award": RECORD,
    "api_revoke": RECORD,
    "api_suspend": RECORD,
    "api_reinstate": RECORD,
    "api_bulk_revoke": ApiSibling(
        OWN_ONLY,
        OWN_ONLY,
        "matches the awards of issuers in reach only: the victim's learners get the answer a "
        "stranger gets",
    ),
    "api_batches": LIST,
    "api_batch": RECORD,
    "api_batch_rows": RECORD,
    "api_batch_start": RECORD,
    "api_pathways": LIST,
    "api_pathway": RECORD,
    "api_pathway_completions": RECORD,
    "api_webhooks": ApiSibling(
        OWN_ONLY,
        REFUSED,
        "the institution's endpoints: a credential limited to issuers sees and adds endpoints "
        "limited to those only; a person must be an institution-wide owner",
    ),
    "api_webhook": RECORD,
    "api_webhook_rotate": RECORD,
    "api_webhook_test": RECORD,
    "api_webhook_deliveries": RECORD,
    "api_webhook_redeliver": RECORD,
    "api_frameworks": PUBLIC,
    "api_placement": PUBLIC,
    "api_equivalences": PUBLIC,
    "api_equivalence": PUBLIC,
    "api_verify": PUBLIC,
    "api_not_found": PUBLIC,
    "oauth_metadata": PUBLIC,
    "api_schema": PUBLIC,
    "api_docs": PUBLIC,
    "api_docs_redoc": PUBLIC,
    "oauth2_provider:authorize": OAUTH,
    "oauth2_provider:token": OAUTH,
    "oauth2_provider:revoke-token": OAUTH,
    "oauth2_provider:introspect": OAUTH,
    **{f"ob3api:{p.name}": WALLET for p in ob3_patterns if isinstance(p, URLPattern)},
}


def every_api_route() -> dict[str, URLPattern]:
    """The REST API v1 (from the resolver), the OAuth server and the Open Badges 3.0 API."""
    found = dict(api_routes())
    for name in ("oauth_metadata", "api_schema", "api_docs", "api_docs_redoc"):
        found[name] = _pattern(name)
    found |= {f"oauth2_provider:{p.name}": p for p in oauth_patterns if isinstance(p, URLPattern)}
    found |= {f"ob3api:{p.name}": p for p in ob3_patterns if isinstance(p, URLPattern)}
    return found


def _pattern(name: str) -> URLPattern:
    return next(p for p in integration_patterns if isinstance(p, URLPattern) and p.name == name)


def _methods(pattern: URLPattern) -> list[str]:
    view = getattr(pattern.callback, "view_class", None)
    if view is None:
        return ["get"]
    return [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]


def test_every_api_route_has_a_sibling_verdict() -> None:
    routes = every_api_route()
    assert len(routes) > 40
    missing = sorted(set(routes) - set(API_SIBLING))
    assert missing == [], f"Give these API routes a sibling-issuer verdict: {missing}"
    assert sorted(set(API_SIBLING) - set(routes)) == []


# --------------------------------------------------------------------------------------------
# The API column
# --------------------------------------------------------------------------------------------


def _kwargs(name: str, world: World) -> dict[str, Any]:
    return ROUTES[name].kwargs(world) if name in ROUTES else {}


def _body(name: str, method: str, world: World) -> dict[str, Any]:
    route = ROUTES.get(name)
    if route is not None and method in route.bodies:
        return route.bodies[method](world)
    return {}


def _markers(world: World) -> list[str]:
    """What only the victim issuer's staff and credentials may read."""
    endpoint = world.extra["endpoint"]
    return [
        *(a.recipient_email for a in world.awards),
        *(a.recipient_name for a in world.awards),
        *(str(a.pk) for a in world.awards),
        str(world.version.achievement_id),
        str(world.draft_only.pk),
        str(world.batch.pk),
        "cohort1@example.com",
        "cohort.csv",
        str(world.pathway.pk),
        str(world.completion.pk),
        str(endpoint.pk),
        endpoint.url,
        str(world.extra["delivery"].pk),
    ]


def _state(world: World) -> tuple[object, ...]:
    victim = world.cast.issuer
    return (
        sorted(Award.objects.filter(issuer=victim).values_list("pk", "status", "claimed_at")),
        sorted(Achievement.objects.filter(issuer=victim).values_list("pk", "slug")),
        sorted(
            AchievementVersion.objects.filter(achievement__issuer=victim).values_list(
                "pk", "status", "name_en", "updated_at"
            )
        ),
        sorted(BulkBatch.objects.filter(issuer=victim).values_list("pk", "state")),
        sorted(Endpoint.objects.values_list("pk", "url", "secret", "enabled")),
        sorted(Delivery.objects.values_list("pk", "status", "attempts")),
        AuditEvent.objects.filter(institution=world.cast.institution).count(),
    )


def _credentials(world: World) -> dict[str, Callable[[], Client]]:
    """Every kind of credential limited to the sibling issuer: a token of the issuer, a
    client limited to it, a token of a client for the whole institution narrowed to it by
    ``issuer:<slug>``, and the issuer's staff of every role (their staff token and session)."""
    cast, sibling = world.cast, world.sibling
    person = make_user("sibling-staff@poly.example", "Sid Sibling")
    membership = Membership.objects.create(
        user=person, institution=cast.institution, issuer=sibling, role=Role.OWNER
    )
    staff = staff_auth(person)

    def as_role(role: Role, *, session: bool) -> Callable[[], Client]:
        def client() -> Client:
            Membership.objects.filter(pk=membership.pk).update(role=role)
            if not session:
                return api(staff)
            found = Client()
            found.force_login(person)
            return found

        return client

    found: dict[str, Callable[[], Client]] = {
        "the sibling issuer's token": lambda: api(issuer_auth(cast.owner, sibling)),
        "a client limited to the sibling issuer": lambda: api(
            oauth_auth(cast.owner, cast.institution, issuers=[sibling], name="Arts LMS")
        ),
        "a token narrowed to the sibling issuer": lambda: api(
            oauth_auth(cast.owner, cast.institution, f"{EVERY_SCOPE} issuer:{sibling.slug}")
        ),
    }
    for role in (Role.OWNER, Role.EDITOR, Role.AWARDER, Role.VIEWER):
        found[f"the sibling issuer's {role}'s staff token"] = as_role(role, session=False)
        found[f"the sibling issuer's {role}'s session"] = as_role(role, session=True)
    return found


def _call(client: Client, method: str, url: str, payload: dict[str, Any] | None) -> Any:
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, json.dumps(payload or {}), content_type="application/json")


def _text(response: Any) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return str(response.content.decode(errors="replace"))


def _bulk_revoke_answers(client: Client, world: World) -> tuple[Any, Any]:
    """A dry run naming the victim issuer's learner, and one naming a stranger."""
    url = reverse("api_bulk_revoke", kwargs={"institution": world.cast.institution.slug})
    answers = []
    for reference in (world.awards[0].recipient_email, "stranger@example.com"):
        response = _call(client, "post", url, {"credentials": [reference], "dry_run": True})
        answers.append((response.status_code, response.content))
    return answers[0], answers[1]


@dataclass
class Column:
    """What the API column found: per route whose verdict does not hold, what happened (for
    reads and for writes), and how many routes and credentials were tried."""

    reads: dict[str, list[str]]
    writes: dict[str, list[str]]
    read_routes: int
    write_routes: int
    credentials: int


def api_column(world: World) -> Column:
    """Every API route called with every credential limited to the sibling issuer."""
    routes = every_api_route()
    markers = _markers(world)
    reads: dict[str, list[str]] = {}
    writes: dict[str, list[str]] = {}
    own_awards: dict[str, int] = {}
    credentials = _credentials(world)
    for who, make in credentials.items():
        client = make()
        before = _state(world)  # making a credential is audited too
        for name, pattern in sorted(routes.items()):
            verdict = API_SIBLING[name]
            url = reverse(name, kwargs=_kwargs(name, world))
            for method in _methods(pattern):
                expected = verdict.read if method == "get" else verdict.write
                found = reads if method == "get" else writes
                response = _call(client, method, url, _body(name, method, world))
                status = response.status_code
                problems = []
                if status >= 500:
                    problems.append("failed")
                if expected == REFUSED and status not in {400, 403, 404, 405}:
                    problems.append("not refused")
                if expected == REFUSED and method == "get" and status == 400:
                    problems.append("not refused")
                if expected == OWN_ONLY and method == "get" and status not in {200, 403}:
                    problems.append("a list did not answer")
                leaked = [m for m in markers if m in _text(response)]
                if leaked:
                    problems.append(f"shows {leaked}")
                if name == "api_awards" and status == 200:
                    own_awards[who] = len(response.json()["results"])
                if name == "api_bulk_revoke" and method == "post":
                    victims, stranger = _bulk_revoke_answers(client, world)
                    if victims != stranger:
                        problems.append("answers otherwise for the victim issuer's learner")
                if _state(world) != before:
                    problems.append("changed the victim issuer's records")
                    before = _state(world)
                if problems:
                    found.setdefault(name, []).append(
                        f"{who}: {method.upper()} {url} → {status}: {', '.join(problems)}"
                    )
    # The credentials do reach their own issuer: the lists are not merely empty.
    assert sorted(own_awards) == sorted(credentials), own_awards
    assert all(count >= 1 for count in own_awards.values()), own_awards
    return Column(
        reads=reads,
        writes=writes,
        read_routes=sum(1 for p in routes.values() if "get" in _methods(p)),
        write_routes=sum(1 for p in routes.values() if set(_methods(p)) - {"get"}),
        credentials=len(credentials),
    )


def test_nothing_of_a_sibling_issuer_is_read_or_changed_through_the_api(cast: Cast) -> None:
    world = make_world(cast)
    ROUTES["api_webhook"].kwargs(world)  # the victim issuer's endpoint, with a delivery
    found = api_column(world)

    kinds = f"API, {found.credentials} credentials limited to the sibling issuer"
    print(f"\nsibling-issuer reads: {len(found.reads)} of {found.read_routes} routes ({kinds})")
    print(f"sibling-issuer writes: {len(found.writes)} of {found.write_routes} routes ({kinds})")
    assert found.reads == {}, json.dumps(found.reads, indent=1, ensure_ascii=False)
    assert found.writes == {}, json.dumps(found.writes, indent=1, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# The console column, and the figure over both
# --------------------------------------------------------------------------------------------


def test_nothing_of_a_sibling_issuer_is_read_or_changed_in_the_console(
    client: Client, cast: Cast
) -> None:
    from issuers import services

    invitation: Invitation = services.invite_member(
        actor=cast.owner,
        institution=cast.institution,
        email="pending@poly.example",
        role=Role.VIEWER,
    )
    reads, writes = sibling_column(client, cast, invitation)
    read_urls = {line.split(" ")[2] for line in reads}
    write_urls = {line.split(" ")[2] for line in writes}

    kinds = "console URLs, the sibling issuer's owner, editor, awarder and viewer"
    print(f"\nsibling-issuer reads: {len(read_urls)} of {len(SIBLING)} routes ({kinds})")
    print(f"sibling-issuer writes: {len(write_urls)} of {len(SIBLING)} routes ({kinds})")
    assert reads == [], "\n".join(reads)
    assert writes == [], "\n".join(writes)


def test_institution_wide_staff_still_read_every_issuer(client: Client, cast: Cast) -> None:
    """The other side: an institution-wide viewer reads the awards of every issuer."""
    world = make_world(cast)
    client.force_login(cast.viewer)
    listed = client.get(reverse("manage:awards", args=[cast.institution.slug])).content.decode()

    assert "sibling@example.com" in listed and world.awards[0].recipient_email in listed
    detail = reverse("manage:award_detail", args=[cast.institution.slug, world.awards[0].pk])
    assert client.get(detail).status_code == 200
