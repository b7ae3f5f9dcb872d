"""The awarding API: one or many awards, tokens scoped to one issuer, and an Idempotency-Key
that never awards twice."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from badges.models import Award, IdempotentRequest
from badges.tokens import services as token_services
from tests.badges.helpers import make_published, verify_served
from tests.base import Cast, make_issuer

pytestmark = pytest.mark.django_db


def _post(client: Client, achievement_id: object, body: Any, key: str = "", **headers: str) -> Any:
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    extra: dict[str, Any] = headers
    return client.post(
        reverse("api_award_achievement", args=[achievement_id]),
        json.dumps(body),
        content_type="application/json",
        **extra,
    )


def _token(cast: Cast, issuer: Any = None) -> str:
    _token_row, key = token_services.create_api_token(
        actor=cast.owner, issuer=issuer or cast.issuer, name="LMS"
    )
    return f"Bearer {key}"


def test_an_issuer_token_awards_many_learners_whose_badges_verify(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    body = {
        "awards": [
            {"email": "ada@example.com", "name": "Ada", "result": "A"},
            {
                "email": "li@example.com",
                "name": "李",
                "language": "zh-Hans",
                "evidence": [{"url": "https://example.com/li"}],
            },
        ]
    }

    response = _post(
        client, version.achievement_id, body, key="k-1", HTTP_AUTHORIZATION=_token(cast)
    )

    assert response.status_code == 201, response.content
    awards = response.json()["awards"]
    assert [a["email"] for a in awards] == ["ada@example.com", "li@example.com"]
    for item in awards:
        stored = Award.objects.get(pk=item["id"])
        assert item["credential"].endswith(f"/credentials/{stored.pk}")
        assert verify_served(client, json.loads(stored.credential_json))


def test_the_same_idempotency_key_gives_the_same_answer_and_no_second_award(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    token = _token(cast)
    body = {"email": "once@example.com", "name": "Once"}

    first = _post(client, version.achievement_id, body, key="retry-me", HTTP_AUTHORIZATION=token)
    again = _post(client, version.achievement_id, body, key="retry-me", HTTP_AUTHORIZATION=token)
    other = _post(
        client,
        version.achievement_id,
        {"email": "else@example.com"},
        key="retry-me",
        HTTP_AUTHORIZATION=token,
    )

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert other.status_code == 422
    assert Award.objects.filter(recipient_email="once@example.com").count() == 1
    assert Award.objects.count() == 1
    assert IdempotentRequest.objects.count() == 1


def test_a_token_cannot_award_another_issuers_badges(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    sibling = make_issuer(cast.institution, "poly-arts", cast.owner)
    foreign = make_published(cast.outsider, cast.other_issuer, slug="foreign")

    for achievement in (version.achievement_id, foreign.achievement_id):
        response = _post(
            client,
            achievement,
            {"email": "x@example.com"},
            HTTP_AUTHORIZATION=_token(cast, sibling),
        )
        assert response.status_code == 404
    bad = _post(
        client,
        version.achievement_id,
        {"email": "x@example.com"},
        HTTP_AUTHORIZATION="Bearer ins_nope",
    )
    assert bad.status_code == 401
    assert Award.objects.count() == 0


def test_one_bad_award_in_a_request_awards_nothing_and_frees_the_key(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    token = _token(cast)
    body = {"awards": [{"email": "good@example.com"}, {"email": "bad@example.com", "result": "Z"}]}

    response = _post(client, version.achievement_id, body, key="k", HTTP_AUTHORIZATION=token)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["details"]["awards"][0]["index"] == 1
    assert Award.objects.count() == 0
    body["awards"][1]["result"] = "B"
    assert (
        _post(client, version.achievement_id, body, key="k", HTTP_AUTHORIZATION=token).status_code
        == 201
    )
    assert Award.objects.count() == 2


def test_staff_need_the_awarder_role_and_the_schema_documents_the_endpoint(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.viewer)  # a member: in reach, without the role
    assert _post(client, version.achievement_id, {"email": "v@example.com"}).status_code == 403
    client.force_login(cast.outsider)
    assert _post(client, version.achievement_id, {"email": "v@example.com"}).status_code == 404
    client.force_login(cast.awarder)
    assert _post(client, version.achievement_id, {"email": "v@example.com"}).status_code == 201

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/achievements/{achievement_id}/awards"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    assert "issuerToken" in schema["components"]["securitySchemes"]
