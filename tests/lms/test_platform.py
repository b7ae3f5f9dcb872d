"""The test LMS as a platform: its configuration, launches, tampering, deep linking, pages.

Launches go through a real tool library (pylti1p3, :mod:`tests.lms.tool`), so "a tool accepts
this launch" is checked by someone else's validation, not ours.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests

from tests.lms.conftest import Content, Registered
from tests.lms.server import Lms
from tests.lms.tool import browse, parse_form, submit_form

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def _verified(lms: Lms, id_token: str, audience: str) -> dict[str, Any]:
    """The id_token's claims, checked against the key ``/jwks`` names in its header."""
    jwks = jwt.PyJWKSet.from_dict(requests.get(lms.url("/jwks"), timeout=5).json())
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims: dict[str, Any] = jwt.decode(
        id_token, key, algorithms=["RS256"], audience=audience, issuer=lms.issuer
    )
    return claims


def test_the_openid_configuration_is_complete(lms: Lms) -> None:
    config = requests.get(lms.url("/.well-known/openid-configuration"), timeout=5).json()
    assert config["issuer"] == lms.base_url
    assert config["authorization_endpoint"] == lms.url("/auth")
    assert config["token_endpoint"] == lms.url("/token")
    assert config["jwks_uri"] == lms.url("/jwks")
    assert config["registration_endpoint"] == lms.url("/register")
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert config["token_endpoint_auth_signing_alg_values_supported"] == ["RS256"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert config["response_types_supported"] == ["id_token"]
    assert config["subject_types_supported"] == ["public", "pairwise"]
    assert {"openid", "https://purl.imsglobal.org/spec/lti-ags/scope/score"} <= set(
        config["scopes_supported"]
    )
    assert {"sub", "email", "name"} <= set(config["claims_supported"])
    platform = config["https://purl.imsglobal.org/spec/lti-platform-configuration"]
    assert platform["product_family_code"] == "insignia-test-lms"
    assert platform["version"]
    assert {m["type"] for m in platform["messages_supported"]} == {
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    }


def test_a_launch_as_alice_carries_her_claims(
    lms: Lms, registered: Registered, http: requests.Session, content: Content
) -> None:
    answer = browse(http, lms.launch_url(registered.client_id, "alice", content.link_id))
    assert answer.status_code == 200, answer.text  # pylti1p3 validated it
    launch = lms.last_launch("alice")
    assert launch["redirect_uri"] == registered.tool.url("/launch")
    claims = _verified(lms, launch["id_token"], registered.client_id)
    assert answer.json()["claims"] == claims
    assert claims["sub"] == "alice"
    assert (claims["name"], claims["given_name"], claims["family_name"]) == (
        "Alice Learner",
        "Alice",
        "Learner",
    )
    assert claims["email"] == "alice@lms.test"
    assert claims[CLAIM + "roles"] == [LEARNER]
    assert claims[CLAIM + "message_type"] == "LtiResourceLinkRequest"
    assert claims[CLAIM + "version"] == "1.3.0"
    assert claims[CLAIM + "deployment_id"] == registered.deployment_id
    assert claims[CLAIM + "target_link_uri"] == registered.tool.url("/launch")
    assert claims[CLAIM + "context"]["id"] == "course-1"
    assert claims[CLAIM + "context"]["title"] == "Welding 101"
    assert claims[CLAIM + "context"]["label"] == "WELD101"
    assert claims[CLAIM + "resource_link"] == {
        "id": content.link_id,
        "title": "Weld inspection quiz",
    }
    assert claims[CLAIM + "custom"] == {"badge": "weld-inspector", "student": "S1001"}
    assert claims[CLAIM + "lis"] == {"person_sourcedid": "S1001"}
    assert claims[CLAIM + "launch_presentation"]["return_url"] == lms.url("/")
    lineitems = lms.url("/ags/course-1/lineitems")
    assert claims[AGS]["lineitems"] == lineitems
    assert claims[AGS]["lineitem"] == f"{lineitems}/{content.line_item_id}"
    assert set(claims[AGS]["scope"]) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    }
    assert claims[NRPS]["context_memberships_url"] == lms.url("/nrps/course-1/memberships")
    assert claims["exp"] > time.time()


def test_bob_has_no_sourcedid_and_a_changed_email_is_sent(
    lms: Lms, registered: Registered, http: requests.Session, content: Content
) -> None:
    lms.set_email("bob", "robert@lms.test")
    try:
        answer = browse(http, lms.launch_url(registered.client_id, "bob", content.link_id))
        claims = answer.json()["claims"]
    finally:
        lms.set_email("bob", "bob@lms.test")
    assert claims["email"] == "robert@lms.test"
    assert CLAIM + "lis" not in claims
    assert claims[CLAIM + "custom"]["student"] == "$Person.sourcedId"  # no value: unchanged


def test_a_deep_linking_launch_asks_for_resource_links(
    lms: Lms, registered: Registered, http: requests.Session
) -> None:
    browse(http, lms.launch_url(registered.client_id, "instructor", "deep-link"))
    claims = _verified(lms, lms.last_launch("instructor")["id_token"], registered.client_id)
    assert claims[CLAIM + "message_type"] == "LtiDeepLinkingRequest"
    assert claims[CLAIM + "target_link_uri"] == registered.tool.url("/deep-link")
    assert CLAIM + "resource_link" not in claims
    settings = claims[DL + "deep_linking_settings"]
    assert settings["deep_link_return_url"] == lms.url("/deep-link-return")
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert isinstance(settings["data"], str) and settings["data"]
    assert "lineitem" not in claims[AGS]


@pytest.mark.parametrize("tamper", ["aud", "key", "deployment", "expired"])
def test_a_tampered_launch_differs_in_exactly_that_way(
    lms: Lms, registered: Registered, http: requests.Session, content: Content, tamper: str
) -> None:
    honest = browse(http, lms.launch_url(registered.client_id, "alice", content.link_id))
    assert honest.status_code == 200
    good = lms.last_launch("alice")["id_token"]
    refused = browse(http, lms.launch_url(registered.client_id, "alice", content.link_id, tamper))
    assert refused.status_code == 400, refused.text
    launch = lms.last_launch("alice")
    assert launch["tamper"] == tamper
    bad = launch["id_token"]
    before, after = (jwt.decode(t, options={"verify_signature": False}) for t in (good, bad))
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed - {"nonce", "iat", "exp"} == (
        {"aud"}
        if tamper == "aud"
        else {CLAIM + "deployment_id"}
        if tamper == "deployment"
        else set()
    )
    header = jwt.get_unverified_header(bad)
    platform_kids = {k["kid"] for k in requests.get(lms.url("/jwks"), timeout=5).json()["keys"]}
    if tamper == "aud":
        assert after["aud"] != registered.client_id
    elif tamper == "key":
        assert header["kid"] not in platform_kids
        assert "Unable to find public key" in refused.json()["error"]
    elif tamper == "deployment":
        assert after[CLAIM + "deployment_id"] == "not-registered-deployment"
    else:
        assert after["exp"] < time.time() - 60
        assert "expired" in refused.json()["error"]
    if tamper != "key":
        assert header["kid"] in platform_kids


def test_last_launch_can_be_replayed(
    lms: Lms, registered: Registered, http: requests.Session, content: Content
) -> None:
    browse(http, lms.launch_url(registered.client_id, "alice", content.link_id))
    launch = lms.last_launch("alice")
    replay = http.post(
        launch["redirect_uri"],
        data={"id_token": launch["id_token"], "state": launch["state"]},
        timeout=5,
    )
    # pylti1p3 keeps nonces: it accepts a replay. Insignia's tool must not.
    assert replay.status_code == 200
    assert replay.json()["claims"]["sub"] == "alice"


def test_the_authorization_endpoint_refuses_a_bad_request(
    lms: Lms, registered: Registered, http: requests.Session
) -> None:
    login = http.get(
        lms.launch_url(registered.client_id, "alice", "deep-link"),
        allow_redirects=False,
        timeout=5,
    )
    to_auth = http.get(login.headers["Location"], allow_redirects=False, timeout=5)
    url = requests.PreparedRequest()
    good = dict(parse_qsl(urlsplit(to_auth.headers["Location"]).query))
    for change in (
        {"redirect_uri": "http://127.0.0.1:9/elsewhere"},
        {"client_id": "unknown"},
        {"response_type": "code"},
        {"response_mode": "query"},
        {"login_hint": "bob"},
        {"lti_message_hint": "made-up"},
        {"nonce": ""},
    ):
        url.prepare_url(lms.url("/auth"), {**good, **change})
        assert http.get(str(url.url), timeout=5).status_code == 400, change
    url.prepare_url(lms.url("/auth"), good)
    assert http.get(str(url.url), timeout=5).status_code == 200


def test_deep_linking_adds_a_link_with_its_line_item(
    lms: Lms, registered: Registered, http: requests.Session
) -> None:
    response_form = browse(http, lms.launch_url(registered.client_id, "instructor", "deep-link"))
    back = submit_form(http, response_form)
    assert back.status_code == 303
    page = http.get(lms.url(back.headers["Location"]), timeout=5).text
    assert "Added: Weld inspection quiz" in page
    state = lms.state()
    link = next(link for link in state["links"] if link["tool"] == registered.client_id)
    assert link["title"] == "Weld inspection quiz"
    assert link["custom"] == {"badge": "weld-inspector", "student": "$Person.sourcedId"}
    item = next(i for i in state["line_items"] if i["resource_link_id"] == link["id"])
    assert (item["label"], item["score_maximum"], item["tag"]) == ("Weld quiz", 10, "quiz")
    assert "Open as Alice Learner" in page
    assert "Save grade for Alice Learner in Weld quiz" in page
    assert f"Add content from {registered.tool.name} (as Ina Instructor)" in page
    # The response is one-time: its ``data`` is spent.
    assert submit_form(http, response_form).status_code == 400


def _response(registered: Registered, data: str, lms: Lms, **changes: Any) -> dict[str, str]:
    claims = {
        "iss": registered.client_id,
        "aud": [lms.issuer],
        "iat": int(time.time()),
        "exp": int(time.time()) + 300,
        "nonce": "n-1",
        CLAIM + "deployment_id": registered.deployment_id,
        CLAIM + "message_type": "LtiDeepLinkingResponse",
        CLAIM + "version": "1.3.0",
        DL + "content_items": [{"type": "ltiResourceLink", "title": "Hand-made"}],
        DL + "data": data,
    }
    claims.update(changes)
    return {"JWT": registered.tool.sign(claims)}


def test_a_bad_deep_linking_response_is_refused(
    lms: Lms, registered: Registered, http: requests.Session
) -> None:
    form = browse(http, lms.launch_url(registered.client_id, "instructor", "deep-link"))
    data = parse_form(form.text)[1]["JWT"]
    data = jwt.decode(data, options={"verify_signature": False})[DL + "data"]
    back = lms.url("/deep-link-return")
    for changes in (
        {"aud": ["http://elsewhere.test"]},
        {CLAIM + "deployment_id": "another"},
        {DL + "data": "not-what-was-sent"},
        {DL + "content_items": [{"type": "html", "html": "<p>x</p>"}]},
        {CLAIM + "message_type": "LtiResourceLinkRequest"},
        {"exp": int(time.time()) - 600},
    ):
        answer = http.post(back, data=_response(registered, data, lms, **changes), timeout=5)
        assert answer.status_code == 400, changes
    forged = _response(registered, data, lms)
    forged["JWT"] = forged["JWT"][:-4] + ("AAAA" if forged["JWT"][-4:] != "AAAA" else "BBBB")
    assert http.post(back, data=forged, timeout=5).status_code == 400
    good = http.post(back, data=_response(registered, data, lms), allow_redirects=False, timeout=5)
    assert good.status_code == 303
    assert any(link["title"] == "Hand-made" for link in lms.state()["links"])
