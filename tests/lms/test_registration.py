"""Registering tools with the test LMS: Dynamic Registration, the control API, the state file."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import requests

from tests.lms.server import Lms, start_lms
from tests.lms.tool import MiniRegistration, MiniTool, browse

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def _post(lms: Lms, data: Any, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.post(lms.url("/register"), json=data, headers=headers, timeout=5)


def test_a_registration_request_needs_the_token_and_the_fields(lms: Lms) -> None:
    tool = MiniTool("Direct")
    try:
        request = MiniRegistration(tool, {}).lti_registration_data()
        assert _post(lms, request, None).status_code == 401
        assert _post(lms, request, "wrong").status_code == 401
        token = lms.registration_token()["registration_token"]
        for broken in (
            {**request, "jwks_uri": ""},
            {**request, "redirect_uris": []},
            {**request, "grant_types": ["implicit"]},
            {key: value for key, value in request.items() if key != TOOL_CONFIGURATION},
            {**request, "initiate_login_uri": "http://elsewhere.test/login"},
        ):
            answer = _post(lms, broken, token)
            assert answer.status_code == 400, broken
            assert answer.json()["error"] == "invalid_client_metadata"
        answer = _post(lms, request, token)
        assert answer.status_code == 200, answer.text
        registered = answer.json()
        assert registered["client_id"]
        assert registered[TOOL_CONFIGURATION]["deployment_id"]
        assert registered[TOOL_CONFIGURATION]["target_link_uri"] == tool.url("/launch")
        assert registered["client_name"] == "Direct"
        assert _post(lms, request, token).status_code == 401  # one-time
        [listed] = [t for t in lms.tools() if t["client_id"] == registered["client_id"]]
        assert listed["deep_link_url"] == tool.url("/deep-link")
        assert listed["registered_by"] == "dynamic"
    finally:
        tool.stop()


def test_dynamic_registration_through_the_admin_page(lms: Lms, http: requests.Session) -> None:
    tool = MiniTool("Badge Tool")
    try:
        page = http.get(lms.registration_page_url(tool.url("/register")), timeout=5)
        assert page.status_code == 200
        assert "Waiting for the tool to register" in page.text
        assert "org.imsglobal.lti.close" in page.text and "Tool registered: " in page.text
        src = html.unescape(re.search(r"<iframe[^>]* src='([^']+)'", page.text).group(1))  # type: ignore[union-attr]
        assert "openid_configuration=" in src and "registration_token=" in src
        done = http.get(src, timeout=10)  # what the iframe loads: the tool registers
        assert done.status_code == 200, done.text
        assert "org.imsglobal.lti.close" in done.text
        [issuer] = tool.registrations
        assert issuer == lms.issuer
        client_id = tool.registrations[issuer][0]["client_id"]
        [listed] = [t for t in lms.tools() if t["client_id"] == client_id]
        assert listed["name"] == "Badge Tool"
        assert listed["registration_session"] in page.text
        assert len(listed["scopes"]) == 4
        assert http.get(src, timeout=10).status_code == 400  # the token is spent
        # The registration works: a deep-linking launch reaches the tool's deep-link URL.
        form = browse(http, lms.launch_url(client_id, "instructor", "deep-link"))
        assert form.status_code == 200, form.text
        assert lms.last_launch("instructor")["redirect_uri"] == tool.url("/deep-link")
    finally:
        tool.stop()


def test_the_control_api_checks_and_escapes(lms: Lms) -> None:
    missing = requests.post(lms.url("/control/tools"), json={"name": "x"}, timeout=5)
    assert missing.status_code == 400
    answer = lms.register_tool(
        "<script>alert(1)</script>",
        "http://127.0.0.1:9/login",
        "http://127.0.0.1:9/launch",
        "http://127.0.0.1:9/jwks",
        client_id="fixed-client",
        deployment_id="fixed-deployment",
    )
    assert (answer["client_id"], answer["deployment_id"]) == ("fixed-client", "fixed-deployment")
    assert answer["jwks_url"] == lms.url("/jwks")
    assert (answer["auth_url"], answer["token_url"]) == (lms.url("/auth"), lms.url("/token"))
    page = requests.get(lms.url("/"), timeout=5).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    again = requests.post(
        lms.url("/control/tools"),
        json={
            "name": "x",
            "oidc_login_url": "a",
            "launch_url": "b",
            "jwks_url": "c",
            "client_id": "fixed-client",
        },
        timeout=5,
    )
    assert again.status_code == 400


def test_the_course_survives_a_restart_with_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "lms.json"
    first = start_lms(tmp_path / "first.log", state_path=state)
    try:
        tool = first.register_tool(
            "Kept", "http://127.0.0.1:9/l", "http://127.0.0.1:9/a", "http://127.0.0.1:9/j"
        )
        requests.post(
            first.url("/gradebook/columns"),
            data={"label": "Kept column", "score_maximum": "4"},
            timeout=5,
        )
        first.set_grade("Kept column", "alice", 3)
    finally:
        first.stop()
    second = start_lms(tmp_path / "second.log", state_path=state)
    try:
        kept = second.state()
        assert [t["client_id"] for t in kept["tools"]] == [tool["client_id"]]
        assert [r["score"] for r in kept["results"]] == [3]
        assert second.base_url != first.base_url or kept["issuer"] == second.base_url
    finally:
        second.stop()
