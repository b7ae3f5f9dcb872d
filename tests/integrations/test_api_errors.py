"""One error format for every 4xx and 5xx of the REST API v1, the OpenAPI document that
describes it, and the reference page served without any other origin."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.http import Http404
from django.test import Client, RequestFactory
from rest_framework.request import Request

from integrations.v1 import docs
from integrations.v1.errors import exception_handler, not_found
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.integrations.test_api_helpers import api, oauth_auth, staff_auth

pytestmark = pytest.mark.django_db


def _error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json", response.content
    found: dict[str, Any] = response.json()
    assert set(found) == {"error"}
    error: dict[str, Any] = found["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    return error


def test_every_refusal_has_the_same_shape(cast: Cast) -> None:
    given = award(cast.awarder, make_published(cast.editor, cast.issuer))
    client = api(staff_auth(cast.editor))
    anonymous = Client()

    cases = {
        "not_authenticated": anonymous.get("/api/v1/awards"),
        "authentication_failed": Client(HTTP_AUTHORIZATION="Bearer nonsense").get("/api/v1/awards"),
        "not_found": client.get("/api/v1/awards/00000000-0000-4000-8000-000000000000"),
        "method_not_allowed": client.get(f"/api/v1/awards/{given.pk}/revoke"),
        "unsupported_media_type": client.post(f"/api/v1/awards/{given.pk}/revoke", {"reason": "x"}),
        "parse_error": client.post(
            f"/api/v1/awards/{given.pk}/revoke", "{not json", content_type="application/json"
        ),
        "not_acceptable": client.get("/api/v1/awards", HTTP_ACCEPT="text/html"),
        "permission_denied": api(staff_auth(cast.viewer)).post(
            f"/api/v1/awards/{given.pk}/revoke", {"reason": "x"}, content_type="application/json"
        ),
    }
    statuses = {
        "not_authenticated": 401,
        "authentication_failed": 401,
        "not_found": 404,
        "method_not_allowed": 405,
        "unsupported_media_type": 415,
        "parse_error": 400,
        "not_acceptable": 406,
        "permission_denied": 403,
    }
    for code, response in cases.items():
        assert response.status_code == statuses[code], (code, response.content)
        assert _error(response)["code"] == code
    assert "WWW-Authenticate" in cases["authentication_failed"]


def test_invalid_queries_name_the_field(cast: Cast) -> None:
    client = api(oauth_auth(cast.owner, cast.institution, "awards:read"))

    for query, field in (
        ("limit=500", "limit"),
        ("cursor=bm90LW91cnM", "cursor"),
        ("updated_since=yesterday", "updated_since"),
        ("state=lost", "state"),
        ("colour=blue", "colour"),
    ):
        response = client.get(f"/api/v1/awards?{query}")
        assert response.status_code == 400, query
        error = _error(response)
        assert error["code"] == "invalid"
        assert field in error["details"], (query, error)


def test_an_unexpected_failure_is_a_server_error_in_the_same_shape() -> None:
    inside = Request(RequestFactory().get("/api/v1/awards"))
    outside = Request(RequestFactory().get("/verify"))

    answer = exception_handler(RuntimeError("boom"), {"request": inside})
    assert answer is not None
    assert answer.status_code == 500
    assert answer.data["error"]["code"] == "server_error"
    assert "boom" not in json.dumps(answer.data)
    assert exception_handler(RuntimeError("boom"), {"request": outside}) is None
    drf = exception_handler(Http404(), {"request": outside})
    assert drf is not None and drf.data == {"detail": "Not found."}
    missing = not_found(RequestFactory().get("/api/v1/nothing"), "nothing")
    assert missing.status_code == 404
    assert json.loads(missing.content)["error"]["code"] == "not_found"


def test_the_schema_documents_every_operation_with_its_errors_and_credentials(
    client: Client,
) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    ours = {
        (path, method): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if path.startswith("/api/v1/")
        and set(operation.get("tags", ()))
        & {"awards", "achievements", "batches", "pathways", "issuers"}
    }

    assert len(ours) >= 23
    for (path, method), operation in ours.items():
        assert "401" in operation["responses"], (path, method)
        error = operation["responses"]["401"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/Error"}
        schemes = {name for entry in operation["security"] for name in entry}
        assert {"oauth2", "issuerToken", "staffToken"} <= schemes, (path, method)
        if method == "post":
            names = {p["name"] for p in operation.get("parameters", [])}
            assert "Idempotency-Key" in names, path
            assert "422" in operation["responses"], path
    listing = ours[("/api/v1/awards", "get")]
    assert {"limit", "cursor", "updated_since", "state"} <= {
        p["name"] for p in listing["parameters"]
    }
    assert "next" in schema["components"]["schemas"]["AwardPage"]["properties"]


def test_our_schema_view_describes_the_conventions() -> None:
    response = docs.SchemaView.as_view()(RequestFactory().get("/api/schema/?format=json"))
    response.render()
    document = json.loads(response.content)

    assert "Idempotency-Key" in document["info"]["description"]
    assert '{"error": {"code": "not_found"' in document["info"]["description"]
    assert {t["name"] for t in document["tags"]} >= {"awards", "batches", "pathways"}


def test_the_reference_page_and_its_script_come_from_this_server(client: Client) -> None:
    page = client.get("/api/docs/")
    script = client.get("/api/docs/redoc.standalone.js")

    assert page.status_code == 200
    html = page.content.decode()
    assert '<redoc spec-url="/api/schema/?format=json">' in html
    assert '<script src="/api/docs/redoc.standalone.js">' in html
    assert re.findall(r"(?:src|href)=\"(https?:)?//", html) == []  # nothing from elsewhere
    assert script.status_code == 200
    assert script["Content-Type"].startswith("text/javascript")
    assert b"Redoc" in script.getvalue()[:200_000]
