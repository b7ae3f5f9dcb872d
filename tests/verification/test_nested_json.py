"""Deeply nested JSON posted to our JSON endpoints: Python's ``json`` raises
``RecursionError`` on it, which was a 500; now each endpoint answers 400 in its own error
format, both past the recursion limit and just under it (past ``INSIGNIA_JSON_MAX_DEPTH``)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from common.parsers import json_depth_exceeds
from tests.badges.helpers import make_published
from tests.base import Cast
from tests.integrations.test_api_helpers import api, staff_auth

pytestmark = pytest.mark.django_db


def _arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def _objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    "nested",
    [_arrays(100_000), _objects(100_000), _arrays(900), _objects(500)],
    ids=["arrays-past-recursion", "objects-past-recursion", "arrays-900", "objects-500"],
)
def test_verify_answers_deep_nesting_with_its_400(client: Client, nested: str) -> None:
    response = client.post(
        "/api/v1/verify", '{"credential": ' + nested + "}", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested more than 128 levels deep."}


def test_verify_still_reads_ordinary_nesting(client: Client) -> None:
    credential = {"@context": [], "type": ["VerifiableCredential"], "x": json.loads(_arrays(60))}

    response = client.post(
        "/api/v1/verify", {"credential": credential}, content_type="application/json"
    )

    assert response.status_code in (200, 422)  # a report, not a parse error
    assert "verdict" in response.json()


def test_the_v1_api_answers_deep_nesting_in_its_error_format(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client = api(staff_auth(cast.awarder))
    achievement = json.dumps(str(version.achievement_id))
    body = f'{{"achievement": {achievement}, "rows": {_arrays(50_000)}}}'

    response = client.post("/api/v1/batches", body, content_type="application/json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "parse_error"
    assert "nested more than 128 levels" in error["message"]


def test_wallet_registration_answers_deep_nesting_with_rfc7591_error(client: Client) -> None:
    response = client.post(
        "/ims/ob/v3p0/register",
        '{"client_name": ' + _arrays(50_000) + "}",
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


def test_the_depth_check_is_iterative_and_exact() -> None:
    deep: list[object] = []
    for _ in range(10_000):  # deeper than the recursion limit: built without recursion
        deep = [deep]
    assert json_depth_exceeds(deep, 128)
    assert not json_depth_exceeds(json.loads(_arrays(128)), 128)
    assert json_depth_exceeds(json.loads(_arrays(129)), 128)
    assert not json_depth_exceeds({"a": [1, {"b": "c"}], "d": {}}, 3)
    assert json_depth_exceeds({"a": [1, {"b": ["c"]}]}, 3)
