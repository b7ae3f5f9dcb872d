"""The test LMS's services: the token endpoint, AGS and NRPS, and its gradebook.

The happy paths go through pylti1p3's own service clients (``launch.get_ags()``,
``launch.get_nrps()``), the refusals through plain HTTP.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import requests
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem

from tests.lms.conftest import Content, Registered
from tests.lms.server import Lms
from tests.lms.tool import MiniLaunch, MiniTool, browse

BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL = [SCOPE + "lineitem", SCOPE + "result.readonly", SCOPE + "score", NRPS_SCOPE]


def _ask(lms: Lms, assertion: str, scopes: list[str] = ALL, **form: str) -> requests.Response:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": BEARER,
        "client_assertion": assertion,
        "scope": " ".join(scopes),
        **form,
    }
    return requests.post(lms.url("/token"), data=data, timeout=5)


def _token(lms: Lms, registered: Registered, scopes: list[str] = ALL) -> str:
    assertion = registered.tool.client_assertion(registered.client_id, lms.url("/token"))
    answer = _ask(lms, assertion, scopes)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _get(url: str, token: str, **params: Any) -> requests.Response:
    return requests.get(url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def _launch(lms: Lms, registered: Registered, http: requests.Session, link: str) -> MiniLaunch:
    assert browse(http, lms.launch_url(registered.client_id, "alice", link)).status_code == 200
    return registered.tool.launches[-1]


def test_the_token_endpoint_checks_the_client_assertion(lms: Lms, registered: Registered) -> None:
    tool, client = registered.tool, registered.client_id
    answer = _ask(lms, tool.client_assertion(client, lms.url("/token")))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
    assert set(body["scope"].split()) == set(ALL)
    jwks = jwt.PyJWKSet.from_dict(requests.get(lms.url("/jwks"), timeout=5).json())
    token = jwt.decode(body["access_token"], jwks.keys[0], algorithms=["RS256"])
    assert (token["sub"], token["iss"]) == (client, lms.issuer)
    assert _ask(lms, tool.client_assertion(client, lms.issuer)).status_code == 200

    stranger = MiniTool("Stranger")
    try:
        other_key = jwt.encode(
            jwt.decode(
                tool.client_assertion(client, lms.url("/token")),
                options={"verify_signature": False},
            ),
            stranger.private_key,
            algorithm="RS256",
            headers={"kid": tool.kid},
        )
        unknown_kid = stranger.client_assertion(client, lms.url("/token"))
    finally:
        stranger.stop()
    expired = int(time.time()) - 600
    for refused in (
        other_key,
        unknown_kid,
        tool.client_assertion(client, "http://elsewhere.test/token"),
        tool.client_assertion("not-registered", lms.url("/token")),
        tool.client_assertion(client, lms.url("/token"), iss="someone-else"),
        tool.client_assertion(client, lms.url("/token"), exp=expired, iat=expired - 60),
        "not-a-jwt",
    ):
        assert _ask(lms, refused).status_code == 401
    good = tool.client_assertion(client, lms.url("/token"))
    assert _ask(lms, good, grant_type="password").status_code == 400
    assert _ask(lms, good, client_assertion_type="secret").status_code == 400
    assert _ask(lms, good, scopes=["https://elsewhere.test/scope"]).status_code == 400
    assert _ask(lms, good).status_code == 200
    assert _ask(lms, good).json()["error"] == "invalid_grant"  # the same jti twice


def test_services_want_a_token_of_ours_with_the_right_scope(
    lms: Lms, registered: Registered, content: Content
) -> None:
    members = lms.url("/nrps/course-1/memberships")
    assert requests.get(members, timeout=5).status_code == 401
    assert _get(members, "garbage").status_code == 401
    forged = registered.tool.sign(
        {"iss": lms.issuer, "sub": registered.client_id, "scopes": NRPS_SCOPE, "exp": 2**31}
    )
    assert _get(members, forged).status_code == 401
    results_only = _token(lms, registered, [SCOPE + "result.readonly"])
    assert _get(members, results_only).status_code == 401
    scores = lms.url(f"/ags/course-1/lineitems/{content.line_item_id}/scores")
    score: dict[str, Any] = {
        "userId": "alice",
        "scoreGiven": 1,
        "scoreMaximum": 10,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": datetime.now(UTC).isoformat(),
    }
    headers = {"Authorization": f"Bearer {results_only}"}
    assert requests.post(scores, json=score, headers=headers, timeout=5).status_code == 401
    results = lms.url(f"/ags/course-1/lineitems/{content.line_item_id}/results")
    assert _get(results, results_only).status_code == 200


def test_scores_and_results(
    lms: Lms, registered: Registered, http: requests.Session, content: Content
) -> None:
    ags = _launch(lms, registered, http, content.link_id).get_ags()
    now = datetime.now(UTC)
    grade = (
        Grade()
        .set_score_given(7)
        .set_score_maximum(10)
        .set_user_id("alice")
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_timestamp(now.isoformat())
    )
    ags.put_grade(grade)
    [result] = [r for r in ags.get_grades() if r["userId"] == "alice"]
    assert (result["resultScore"], result["resultMaximum"]) == (7, 10)
    assert result["scoreOf"].endswith(f"/lineitems/{content.line_item_id}")

    token = _token(lms, registered)
    scores = lms.url(f"/ags/course-1/lineitems/{content.line_item_id}/scores")
    older = grade.set_score_given(3).set_timestamp((now - timedelta(minutes=1)).isoformat())
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/vnd.ims.lis.v1.score+json",
    }
    late = requests.post(scores, data=older.get_value(), headers=headers, timeout=5)
    assert late.status_code == 409
    unknown = grade.set_user_id("nobody").set_timestamp(now.isoformat())
    assert (
        requests.post(scores, data=unknown.get_value(), headers=headers, timeout=5).status_code
        == 400
    )

    lms.set_grade(content.line_item_id, "bob", 8)
    results = lms.url(f"/ags/course-1/lineitems/{content.line_item_id}/results")
    first = _get(results, token, limit=1)
    assert first.headers["Content-Type"] == "application/vnd.ims.lis.v2.resultcontainer+json"
    assert [r["userId"] for r in first.json()] == ["alice"]
    assert 'rel="next"' in first.headers["Link"]
    second = _get(first.links["next"]["url"], token)
    assert [(r["userId"], r["resultScore"]) for r in second.json()] == [("bob", 8)]
    assert "Link" not in second.headers
    assert [r["userId"] for r in _get(results, token, user_id="bob").json()] == ["bob"]


def test_line_items(
    lms: Lms, registered: Registered, http: requests.Session, content: Content
) -> None:
    ags = _launch(lms, registered, http, content.link_id).get_ags()
    created = ags.create_lineitem(
        LineItem().set_label("Practical").set_score_maximum(50).set_tag("practical")
    )
    assert created.get_id() and created.get_label() == "Practical"
    mine = {item["label"] for item in ags.get_lineitems()}
    assert {"Weld quiz", "Practical"} <= mine

    token = _token(lms, registered)
    lineitems = lms.url("/ags/course-1/lineitems")
    page = _get(lineitems, token, limit=1)
    assert page.headers["Content-Type"] == "application/vnd.ims.lis.v2.lineitemcontainer+json"
    assert len(page.json()) == 1 and 'rel="next"' in page.headers["Link"]
    by_link = _get(lineitems, token, resource_link_id=content.link_id).json()
    assert [item["label"] for item in by_link] == ["Weld quiz"]
    assert [i["label"] for i in _get(lineitems, token, tag="practical").json()] == ["Practical"]
    assert _get(lineitems, token, limit="x").status_code == 400
    bad = requests.post(
        lineitems,
        json={"label": "No maximum"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert bad.status_code == 400

    other = MiniTool("Other tool")
    try:
        answer = lms.register_tool(
            "Other", other.url("/login"), other.url("/launch"), other.url("/jwks")
        )
        assertion = other.client_assertion(answer["client_id"], lms.url("/token"))
        their_token = _ask(lms, assertion).json()["access_token"]
    finally:
        other.stop()
    assert _get(f"{lineitems}/{content.line_item_id}", their_token).status_code == 404
    assert "Weld quiz" not in {item["label"] for item in _get(lineitems, their_token).json()}


def test_names_and_roles(
    lms: Lms, registered: Registered, http: requests.Session, content: Content
) -> None:
    nrps = _launch(lms, registered, http, content.link_id).get_nrps()
    members = {m["user_id"]: m for m in nrps.get_members()}
    assert set(members) == {"instructor", "alice", "bob"}
    alice = members["alice"]
    assert (alice["status"], alice["email"], alice["lis_person_sourcedid"]) == (
        "Active",
        "alice@lms.test",
        "S1001",
    )
    assert "lis_person_sourcedid" not in members["bob"]

    token = _token(lms, registered, [NRPS_SCOPE])
    url, seen = lms.url("/nrps/course-1/memberships"), []
    page = _get(url, token, limit=1)
    assert (
        page.headers["Content-Type"] == "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
    )
    assert page.json()["context"] == {"id": "course-1", "label": "WELD101", "title": "Welding 101"}
    while True:
        seen += [m["user_id"] for m in page.json()["members"]]
        if "next" not in page.links:
            break
        page = _get(page.links["next"]["url"], token)
    assert seen == ["instructor", "alice", "bob"]
    learners = _get(url, token, role="Learner").json()["members"]
    assert [m["user_id"] for m in learners] == ["alice", "bob"]
    instructor_uri = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    assert [m["user_id"] for m in _get(url, token, role=instructor_uri).json()["members"]] == [
        "instructor"
    ]

    lms.set_member("carol", name="Carol Learner", email="carol@lms.test")
    lms.set_member("bob", "remove")
    try:
        assert {m["user_id"] for m in nrps.get_members()} == {"instructor", "alice", "carol"}
    finally:
        lms.set_member("carol", "remove")
        lms.set_member("bob")


def test_the_gradebook(
    lms: Lms, http: requests.Session, registered: Registered, content: Content
) -> None:
    saved = http.post(
        lms.url("/grades"),
        data={"line_item": content.line_item_id, "user": "alice", "score": "9"},
        timeout=5,
    )
    assert (
        saved.status_code == 200 and "Saved the grade of Alice Learner in Weld quiz." in saved.text
    )
    assert "9 / 10" in saved.text
    assert lms.set_grade(content.line_item_id, "bob", 6)["score"] == 6
    added = http.post(
        lms.url("/gradebook/columns"), data={"label": "Attendance", "score_maximum": "5"}, timeout=5
    )
    assert "Added column Attendance." in added.text
    column = next(i for i in lms.state()["line_items"] if i["label"] == "Attendance")
    assert column["tool"] is None and column["resource_link_id"] is None
    assert lms.set_grade("Attendance", "alice", 4)["line_item"] == column["id"]
    token = _token(lms, registered)
    visible = _get(lms.url("/ags/course-1/lineitems"), token).json()
    assert "Attendance" in {item["label"] for item in visible}
    refused = http.post(
        lms.url("/grades"), data={"line_item": "nope", "user": "alice", "score": "1"}, timeout=5
    )
    assert refused.status_code == 400
