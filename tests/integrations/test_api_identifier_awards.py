"""The REST API v1 awards to a student number or a sign-in name (issue 15 §4): ``student_id``
or ``sourced_id`` beside (or instead of) ``email``, in awards, answers, lists, JSON batch
rows and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from awarding.bulk import services as bulk_services
from badges.models import Award
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.integrations.test_api_helpers import api, oauth_auth

pytestmark = pytest.mark.django_db


def _post(client: Any, cast: Cast, data: Any) -> Any:
    version = make_published(cast.editor, cast.issuer)
    return client.post(
        f"/api/v1/achievements/{version.achievement_id}/awards",
        data,
        content_type="application/json",
    )


def test_a_client_awards_to_a_student_number_without_an_e_mail(cast: Cast) -> None:
    client = api(oauth_auth(cast.owner, cast.institution, "awards:read awards:write"))

    response = _post(client, cast, {"student_id": "20261234", "name": "Lee Learner"})

    assert response.status_code == 201, response.content
    (answer,) = response.json()["awards"]
    assert (answer["email"], answer["student_id"], answer["sourced_id"]) == (
        None,
        "20261234",
        None,
    )
    stored = Award.objects.get()
    assert (stored.recipient_identifier_type, stored.recipient_email) == ("studentId", "")
    read = client.get(f"/api/v1/awards/{answer['id']}").json()
    assert (read["email"], read["student_id"]) == (None, "20261234")
    assert read["claim"]["email_pending"] is False


def test_an_address_and_a_sign_in_name_are_both_answered(cast: Cast) -> None:
    client = api(oauth_auth(cast.owner, cast.institution, "awards:write"))
    response = _post(client, cast, {"email": "Lee@Example.com", "sourced_id": "LLee@Poly.ac.nz"})
    assert response.status_code == 201, response.content
    (answer,) = response.json()["awards"]
    assert (answer["email"], answer["sourced_id"], answer["student_id"]) == (
        "lee@example.com",
        "llee@poly.ac.nz",
        None,
    )


@pytest.mark.parametrize(
    ("item", "field", "message"),
    [
        ({"name": "Nobody"}, "email", "e-mail address, a student number or sign-in name"),
        ({"student_id": "2026\x071234"}, "student_id", "control characters"),
        ({"sourced_id": " "}, "email", "e-mail address, a student number or sign-in name"),
    ],
)
def test_a_refused_recipient_is_named_in_the_api_error_format(
    cast: Cast, item: dict[str, str], field: str, message: str
) -> None:
    client = api(oauth_auth(cast.owner, cast.institution, "awards:write"))
    response = _post(client, cast, {"awards": [{"email": "ok@example.com"}, item]})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    (refused,) = error["details"]["awards"]
    assert refused["index"] == 1
    assert message in " ".join(refused["errors"][field])
    assert not Award.objects.exists()  # all or nothing


def test_a_student_number_and_a_sign_in_name_together_are_refused(cast: Cast) -> None:
    client = api(oauth_auth(cast.owner, cast.institution, "awards:write"))
    response = _post(client, cast, {"student_id": "20261234", "sourced_id": "lee@poly.ac.nz"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == "Give a student_id or a sourced_id, not both."
    assert not Award.objects.exists()


def test_awards_are_listed_by_student_number(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    mine = award(cast.awarder, version, email="", identifier_type="studentId", identifier="1")
    award(cast.awarder, version, email="", identifier_type="studentId", identifier="2")
    award(cast.awarder, version, email="x@example.com")
    client = api(oauth_auth(cast.owner, cast.institution, "awards:read"))

    found = client.get("/api/v1/awards?student_id=1").json()["results"]

    assert [a["id"] for a in found] == [str(mine.pk)]
    assert client.get("/api/v1/awards?sourced_id=1").json()["results"] == []


def test_json_batch_rows_take_a_student_number(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client = api(oauth_auth(cast.owner, cast.institution, "awards:read awards:write"))
    rows = [{"student_id": "20261234", "name": "Lee"}, {"name": "Nobody"}]

    batch = client.post(
        "/api/v1/batches",
        {"achievement": str(version.achievement_id), "rows": rows},
        content_type="application/json",
    ).json()
    listed = client.get(f"/api/v1/batches/{batch['id']}/rows").json()["results"]

    assert (batch["total_rows"], batch["error_rows"]) == (2, 1)
    assert (listed[0]["student_id"], listed[0]["email"], listed[0]["errors"]) == (
        "20261234",
        "",
        [],
    )
    assert [e["column"] for e in listed[1]["errors"]] == ["email"]
    clean = client.post(
        "/api/v1/batches",
        {"achievement": str(version.achievement_id), "rows": rows[:1], "start": True},
        content_type="application/json",
    ).json()
    bulk_services.issue_chunk(batch_id=clean["id"])
    assert Award.objects.get().recipient_identifier == "20261234"


def test_the_openapi_document_describes_the_identifiers(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    item = components["AwardApiItemInput"]["properties"]
    answer = components["AwardOutput"]["properties"]

    assert {"email", "student_id", "sourced_id"} <= item.keys()
    assert "email" not in components["AwardApiItemInput"].get("required", [])
    assert answer["email"].get("nullable") is True
    assert answer["student_id"].get("nullable") is True
    assert "sourced_id" in components["AwardApiAwardOutput"]["properties"]
    assert "student_id" in components["RowOutput"]["properties"]
    parameters = {p["name"] for p in schema["paths"]["/api/v1/awards"]["get"]["parameters"]}
    assert {"student_id", "sourced_id"} <= parameters
    assert {"student_id", "sourced_id"} <= components["RowInput"]["properties"].keys()
