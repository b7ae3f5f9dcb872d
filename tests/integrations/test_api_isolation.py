"""Every route under ``/api/v1/``, found by walking the URL resolver, called with every
method it answers by three kinds of intruder: a token of another institution, an OAuth token
of the same institution narrowed to a sibling issuer, and an issuer token of that sibling
issuer (and a person of another institution). None reads or changes the victim issuer's
objects: each object answers 403 or 404, each list leaves them out, and nothing of theirs
changes. A route missing from :data:`ROUTES` fails the suite, so a new one is covered."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from badges.models import Achievement, AchievementVersion, Award, BulkBatch
from tests.base import Cast
from tests.integrations.test_api_helpers import (
    EVERY_SCOPE,
    World,
    api,
    issuer_auth,
    make_world,
    oauth_auth,
    staff_auth,
)
from webhooks import services as webhook_services
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

PREFIX = "api/v1/"


@dataclass(frozen=True)
class Route:
    """How to call one route: its URL arguments, a body per method that sends one, and what
    it is (``object``: the victim's object in the URL; ``list``: the caller's objects;
    ``institution``: the victim's institution in the URL; ``public``: anyone's)."""

    kind: str
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    bodies: dict[str, Callable[[World], dict[str, Any]]] = field(default_factory=dict)


def _achievement(w: World) -> dict[str, Any]:
    return {"achievement_id": w.version.achievement_id}


def _draft(w: World) -> dict[str, Any]:
    return {"achievement_id": w.draft_only.pk}


def _award(w: World) -> dict[str, Any]:
    return {"award_id": w.awards[1].pk}


def _batch(w: World) -> dict[str, Any]:
    return {"batch_id": w.batch.pk}


def _pathway(w: World) -> dict[str, Any]:
    return {"pathway_id": w.pathway.pk}


def _endpoint(w: World) -> dict[str, Any]:
    """The victim issuer's webhook endpoint (limited to that issuer), with one delivery."""
    found = w.extra.get("endpoint")
    if found is None:
        found = Endpoint.objects.create(
            institution=w.cast.institution,
            url="https://victim-hooks.example/in",
            secret="whsec_dmljdGltLXNlY3JldA==",
        )
        found.issuers.set([w.cast.issuer])
        w.extra["endpoint"] = found
        w.extra["delivery"] = webhook_services.send_test_event(actor=w.cast.owner, endpoint=found)
    return {"institution": w.cast.institution.slug, "endpoint_id": found.pk}


def _delivery(w: World) -> dict[str, Any]:
    return {**_endpoint(w), "delivery_id": w.extra["delivery"].pk}


REASON = {"post": lambda w: {"reason": "Intruder"}}
NOTHING: dict[str, Callable[[World], dict[str, Any]]] = {"post": lambda w: {}}

ROUTES: dict[str, Route] = {
    "api_issuers": Route("list"),
    "api_achievements": Route(
        "list",
        bodies={
            "post": lambda w: {
                "issuer": w.cast.issuer.slug,
                "slug": "intruder",
                "name_en": "Intruder",
            }
        },
    ),
    "api_achievement": Route("object", _achievement),
    "api_achievement_draft": Route(
        "object", _achievement, {"patch": lambda w: {"name_en": "Hacked"}}
    ),
    "api_achievement_publish": Route("object", _draft, {"post": lambda w: {}}),
    "api_versions": Route("object", _achievement),
    "api_version": Route("object", lambda w: {**_achievement(w), "number": 1}),
    "api_award_achievement": Route(
        "object", _achievement, {"post": lambda w: {"email": "intruder@example.com"}}
    ),
    "api_awards": Route("list"),
    "api_award": Route("object", _award),
    "api_revoke": Route("object", _award, REASON),
    "api_suspend": Route("object", _award, REASON),
    "api_reinstate": Route("object", _award, REASON),
    "api_bulk_revoke": Route(
        "institution",
        lambda w: {"institution": w.cast.institution.slug},
        {
            "post": lambda w: {
                "credentials": [str(a.pk) for a in w.awards],
                "reason": "Intruder",
            }
        },
    ),
    "api_batches": Route(
        "list",
        bodies={
            "post": lambda w: {
                "achievement": str(w.version.achievement_id),
                "rows": [{"email": "intruder@example.com"}],
                "start": True,
            }
        },
    ),
    "api_batch": Route("object", _batch),
    "api_batch_rows": Route("object", _batch),
    "api_batch_start": Route("object", _batch, {"post": lambda w: {}}),
    "api_pathways": Route("list"),
    "api_pathway": Route("object", _pathway),
    "api_pathway_completions": Route("object", _pathway),
    "api_webhooks": Route(
        "webhooks",
        lambda w: {"institution": w.cast.institution.slug},
        {
            "post": lambda w: {
                "url": "https://intruder.example/hook",
                "issuers": [w.cast.issuer.slug],
            }
        },
    ),
    "api_webhook": Route(
        "object",
        _endpoint,
        {"patch": lambda w: {"url": "https://intruder.example/hook"}, "delete": lambda w: {}},
    ),
    "api_webhook_rotate": Route("object", _endpoint, NOTHING),
    "api_webhook_test": Route("object", _endpoint, NOTHING),
    "api_webhook_deliveries": Route("object", _endpoint),
    "api_webhook_redeliver": Route("object", _delivery, NOTHING),
    # Public reads of other apps: a credential changes nothing about them.
    "api_frameworks": Route("public"),
    "api_placement": Route("public", lambda w: {"achievement": w.version.achievement_id}),
    "api_equivalences": Route("public"),
    "api_equivalence": Route("public", lambda w: {"statement": uuid.uuid4()}),
    "api_verify": Route("public", bodies={"post": lambda w: {"credential": "hello"}}),
    # Any other path under /api/v1/ (``integrations.v1.errors.not_found``, routed last).
    "api_not_found": Route("public", lambda w: {"rest": "nothing/here"}),
}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def api_routes() -> dict[str, URLPattern]:
    """Every route under ``/api/v1/`` by name, from the resolver itself."""
    found: dict[str, URLPattern] = {}
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.lstrip("^").startswith(PREFIX):
            assert pattern.name, f"{route} has no name"
            found[pattern.name] = pattern
    return found


def _methods(pattern: URLPattern) -> list[str]:
    view = getattr(pattern.callback, "view_class", None)
    names = ("get", "post", "put", "patch", "delete")
    if view is None:
        return ["get"]
    return [name for name in names if hasattr(view, name)]


def test_every_api_route_is_in_the_table() -> None:
    routes = api_routes()
    assert len(routes) > 20
    assert sorted(set(routes) - set(ROUTES)) == []
    for name, pattern in routes.items():
        for method in _methods(pattern):
            if method != "get":
                assert method in ROUTES[name].bodies, f"{name}: no sample body for {method}"


def _markers(w: World) -> list[str]:
    """Strings that only the victim issuer's objects carry."""
    return [
        w.cast.issuer.slug,
        str(w.version.achievement_id),
        str(w.draft_only.pk),
        str(w.batch.pk),
        str(w.pathway.pk),
        str(w.completion.pk),
        *(str(a.pk) for a in w.awards),
        *(a.recipient_email for a in w.awards),
        str(_endpoint(w)["endpoint_id"]),
        "victim-hooks.example",
        str(w.extra["delivery"].pk),
    ]


def _snapshot(w: World) -> dict[str, Any]:
    return {
        "awards": sorted(
            Award.objects.filter(issuer=w.cast.issuer).values_list("pk", "status", "claimed_at")
        ),
        "achievements": sorted(
            Achievement.objects.filter(issuer=w.cast.issuer).values_list("pk", "slug")
        ),
        "versions": sorted(
            AchievementVersion.objects.filter(achievement__issuer=w.cast.issuer).values_list(
                "pk", "status", "name_en", "updated_at"
            )
        ),
        "endpoints": sorted(
            Endpoint.objects.filter(institution=w.cast.institution).values_list(
                "pk", "url", "secret", "enabled"
            )
        ),
        "deliveries": sorted(
            Delivery.objects.filter(endpoint__institution=w.cast.institution).values_list(
                "pk", "status", "attempts"
            )
        ),
        "batches": sorted(
            BulkBatch.objects.filter(issuer=w.cast.issuer).values_list("pk", "state")
        ),
    }


def _call(client: Client, method: str, url: str, payload: dict[str, Any] | None) -> Any:
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, json.dumps(payload or {}), content_type="application/json")


def _intruders(w: World) -> dict[str, Client]:
    cast = w.cast
    return {
        "another institution's client": api(oauth_auth(cast.outsider, cast.other_institution)),
        "another institution's person": api(staff_auth(cast.outsider)),
        "a client narrowed to the sibling issuer": api(
            oauth_auth(
                cast.owner,
                cast.institution,
                f"{EVERY_SCOPE} issuer:{w.sibling.slug}",
            )
        ),
        "the sibling issuer's token": api(issuer_auth(cast.owner, w.sibling)),
    }


def test_no_intruder_reads_or_changes_the_victim_issuers_objects(cast: Cast) -> None:
    world = make_world(cast)
    markers = _markers(world)
    before = _snapshot(world)
    routes = api_routes()
    anonymous = Client()
    seen: list[str] = []
    listed: dict[str, int] = {}

    for who, client in _intruders(world).items():
        for name, pattern in sorted(routes.items()):
            route = ROUTES[name]
            url = reverse(name, kwargs=route.kwargs(world))
            for method in _methods(pattern):
                payload = route.bodies[method](world) if method != "get" else None
                response = _call(client, method, url, payload)
                where = f"{who}: {method.upper()} {url} → {response.status_code}"
                seen.append(where)
                text = response.content.decode()
                if route.kind == "public":
                    expected = _call(anonymous, method, url, payload)
                    assert response.status_code == expected.status_code, where
                    continue
                if route.kind == "object":
                    assert response.status_code in (403, 404), where
                    assert response.json()["error"]["code"] in ("permission_denied", "not_found")
                elif route.kind == "webhooks":
                    # The institution's endpoints: intruders see none of the victim's, and
                    # cannot add one for the victim issuer.
                    allowed = (200, 403, 404) if method == "get" else (400, 403, 404)
                    assert response.status_code in allowed, where
                elif route.kind == "institution":
                    assert response.status_code in (403, 404) or (
                        response.status_code == 200 and response.json()["matched"] == 0
                    ), where
                elif method == "get":
                    assert response.status_code == 200, where
                    listed[who] = listed.get(who, 0) + len(response.json()["results"])
                else:
                    assert response.status_code in (403, 404), where
                leaked = [m for m in markers if m in text]
                assert leaked == [], f"{where} shows {leaked}"

    assert _snapshot(world) == before
    # The sibling's intruders do see their own objects: the lists are not merely empty.
    assert listed["a client narrowed to the sibling issuer"] >= 3
    assert listed["the sibling issuer's token"] >= 3
    assert len(seen) >= 4 * len(routes)


def test_the_victims_own_credentials_do_reach_every_object(cast: Cast) -> None:
    """The other side of the table: the same sample arguments work for the victim issuer's
    own token, so the intruders' refusals are about reach, not about bad arguments."""
    world = make_world(cast)
    own = api(oauth_auth(cast.owner, cast.institution, issuers=[cast.issuer]))
    for name, route in ROUTES.items():
        if route.kind != "object":
            continue
        response = own.get(reverse(name, kwargs=route.kwargs(world)))
        if "get" in _methods(api_routes()[name]):
            assert response.status_code == 200, (name, response.content)
