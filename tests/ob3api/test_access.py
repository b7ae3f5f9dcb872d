"""Who may use the Open Badges API, and how the authorisation endpoint refuses what the spec
forbids: no token, the wrong scope or an institution's token is refused with an
``Imsx_StatusInfo``; a wallet cannot act for itself (client credentials); a redirect URI it did
not register, or an authorisation request without PKCE S256, never yields a code; each learner
sees only their own badges."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests
from oauth2_provider.models import Application, Grant

from integrations.oauth import scopes
from integrations.oauth import services as oauth_services
from tests.badges.helpers import award, make_published
from tests.base import make_cast
from tests.earners.helpers import make_learner
from tests.ob3api.helpers import (
    REDIRECT_URI,
    Browser,
    Spec,
    query_of,
    register_wallet,
    strict_errors,
    with_query,
)

pytestmark = pytest.mark.usefixtures("transactional_db")


def _minor(response: requests.Response) -> str:
    field: dict[str, Any] = response.json()["imsx_codeMinor"]["imsx_codeMinorField"][0]
    return str(field["imsx_codeMinorFieldValue"])


def _basic(client_id: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def test_without_a_token_every_operation_is_401_with_a_bearer_challenge(
    base: str, spec: Spec
) -> None:
    api = f"{base}/ims/ob/v3p0"
    for method, path in [
        ("GET", "/credentials"),
        ("POST", "/credentials"),
        ("GET", "/profile"),
        ("PUT", "/profile"),
    ]:
        answer = spec.check(requests.request(method, api + path, json={}, timeout=10))
        assert answer.status_code == 401, (method, path)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert _minor(answer) == "unauthorizedrequest"
        assert answer.json()["imsx_codeMajor"] == "failure"
    bogus = requests.get(
        f"{api}/credentials", headers={"Authorization": "Bearer not-a-token"}, timeout=10
    )
    assert spec.check(bogus).status_code == 401
    assert 'error="invalid_token"' in bogus.headers["WWW-Authenticate"]


def test_discovery_is_never_protected_and_names_our_endpoints(base: str, spec: Spec) -> None:
    answer = spec.check(
        requests.get(
            f"{base}/ims/ob/v3p0/discovery",
            headers={"Authorization": "Bearer not-a-token"},
            timeout=10,
        )
    )
    assert answer.status_code == 200
    document = answer.json()
    assert document["info"]["x-imssf-privacyPolicyUrl"] == f"{base}/backpack/apps/about#privacy"
    assert document["info"]["termsOfService"] == f"{base}/backpack/apps/about#terms"
    assert requests.get(document["info"]["x-imssf-image"], timeout=10).status_code == 200
    scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
    flow = scheme["flows"]["authorizationCode"]
    assert scheme["x-imssf-registrationUrl"] == f"{base}/ims/ob/v3p0/register"
    assert flow["authorizationUrl"] == f"{base}/ims/ob/v3p0/authorize"
    assert flow["tokenUrl"] == flow["refreshUrl"] == f"{base}/oauth/token/"
    assert set(flow["scopes"]) == set(scopes.WALLET_SCOPES)
    assert document["servers"] == [{"url": f"{base}/ims/ob/v3p0", "description": "This platform"}]
    assert set(document["paths"]) == {"/credentials", "/profile", "/discovery"}
    about = requests.get(document["info"]["termsOfService"], timeout=10)
    assert about.status_code == 200 and 'id="privacy"' in about.text


def test_a_token_without_the_operations_scope_is_403_insufficient_scope(
    base: str, spec: Spec
) -> None:
    make_learner("lee@example.com")
    wallet = register_wallet(base, spec, scope=scopes.OB_CREDENTIAL_READONLY)
    wallet.connect(Browser(base, "lee@example.com"))

    assert wallet.get("/credentials").status_code == 200
    upsert = wallet.post_json("/credentials", {"type": ["OpenBadgeCredential"]})
    assert upsert.status_code == 403
    assert _minor(upsert) == "forbidden"
    assert 'error="insufficient_scope"' in upsert.headers["WWW-Authenticate"]
    assert scopes.OB_CREDENTIAL_UPSERT in upsert.headers["WWW-Authenticate"]
    assert wallet.get("/profile").status_code == 403
    # Nor can it ask for more at the authorisation endpoint than it registered.
    browser = Browser(base, "lee@example.com")
    wider = browser.open(wallet.authorization_url(scope=f"{scopes.OB_PROFILE_READONLY}"))
    assert wider.status_code == 302
    assert query_of(wider.headers["Location"])["error"] == "invalid_scope"


def test_an_institutions_token_is_refused_with_403(base: str, spec: Spec) -> None:
    cast = make_cast()
    client, secret = oauth_services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="Student records",
        grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        scopes=["awards:read"],
    )
    token = requests.post(
        f"{base}/oauth/token/",
        data={"grant_type": "client_credentials", "scope": "awards:read"},
        headers=_basic(client.application.client_id, secret),
        timeout=10,
    ).json()["access_token"]
    for path in ("/credentials", "/profile"):
        answer = spec.check(
            requests.get(
                f"{base}/ims/ob/v3p0{path}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
        )
        assert answer.status_code == 403
        assert "institution" in answer.json()["imsx_description"]


def test_a_wallet_cannot_get_a_token_for_itself(base: str, spec: Spec) -> None:
    wallet = register_wallet(base, spec)
    answer = requests.post(
        f"{base}/oauth/token/",
        data={"grant_type": "client_credentials", "scope": scopes.OB_CREDENTIAL_READONLY},
        headers=_basic(wallet.registration["client_id"], wallet.registration["client_secret"]),
        timeout=10,
    )
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] in ("unauthorized_client", "invalid_client")
    assert "access_token" not in answer.json()


def test_a_redirect_uri_the_wallet_did_not_register_gets_no_code(base: str, spec: Spec) -> None:
    make_learner("lee@example.com")
    wallet = register_wallet(base, spec)
    browser = Browser(base, "lee@example.com")
    for elsewhere in ("https://attacker.example/steal", REDIRECT_URI + "/../../steal"):
        wallet.session.redirect_uri = elsewhere
        answer = browser.open(wallet.authorization_url())
        assert answer.status_code == 400  # shown to the learner, never redirected
        assert "attacker.example" not in answer.headers.get("Location", "")
        assert 'data-oauth-error="invalid_request"' in answer.text
    assert not Grant.objects.exists()


def test_an_authorisation_request_without_pkce_s256_or_state_is_refused_before_consent(
    base: str, spec: Spec
) -> None:
    make_learner("lee@example.com")
    wallet = register_wallet(base, spec)
    browser = Browser(base, "lee@example.com")
    url = wallet.authorization_url()

    without = browser.open(with_query(url, code_challenge=None, code_challenge_method=None))
    plain = browser.open(with_query(url, code_challenge_method="plain"))
    stateless = browser.open(with_query(url, state=None))
    for answer in (without, plain, stateless):
        assert answer.status_code == 302
        sent_back = query_of(answer.headers["Location"])
        assert sent_back["error"] == "invalid_request"
        assert "code" not in sent_back
    assert not Grant.objects.exists()


def test_an_unknown_client_or_an_institutions_client_gets_no_consent_page(
    base: str, spec: Spec
) -> None:
    cast = make_cast()
    client, _secret = oauth_services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="Staff app",
        grant_type=Application.GRANT_AUTHORIZATION_CODE,
        scopes=["awards:read"],
        redirect_uris=[REDIRECT_URI],
    )
    make_learner("lee@example.com")
    wallet = register_wallet(base, spec)
    browser = Browser(base, "lee@example.com")
    url = wallet.authorization_url()
    for other in ("nobody", client.application.client_id):
        answer = browser.open(url.replace(wallet.registration["client_id"], other))
        assert answer.status_code == 400
        assert 'data-oauth-error="unauthorized_client"' in answer.text


def test_each_learner_sees_only_their_own_badges_and_profile(base: str, spec: Spec) -> None:
    cast = make_cast()
    version = make_published(cast.owner, cast.issuer)
    ann_badge = award(cast.owner, version, email="ann@example.com", name="Ann")
    bob_badge = award(cast.owner, version, email="bob@example.com", name="Bob")
    make_learner("ann@example.com", name="Ann")
    make_learner("bob@example.com", name="Bob")
    wallet = register_wallet(base, spec)

    seen = {}
    for email in ("ann@example.com", "bob@example.com"):
        wallet.connect(Browser(base, email))
        listed = wallet.get("/credentials").json()["credential"]
        seen[email] = ([c["id"] for c in listed], wallet.get("/profile").json()["email"])
    assert seen["ann@example.com"] == ([ann_badge.credential["id"]], "ann@example.com")
    assert seen["bob@example.com"] == ([bob_badge.credential["id"]], "bob@example.com")


def test_other_paths_and_methods_answer_imsx_too(base: str, spec: Spec) -> None:
    make_learner("lee@example.com")
    wallet = register_wallet(base, spec)
    wallet.connect(Browser(base, "lee@example.com"))
    # Neither is in 1EdTech's document, so only the body's schema is checked.
    deleted = wallet.session.delete(f"{wallet.api}/credentials")
    assert deleted.status_code == 405
    assert _minor(deleted) == "not_allowed"
    unknown = wallet.session.get(f"{wallet.api}/credentials/123")
    assert unknown.status_code == 404
    assert _minor(unknown) == "not_found"
    for answer in (deleted, unknown):
        assert strict_errors(answer.json(), "imsx_statusinfo.json") == []
    wrong_type = spec.check(
        wallet.session.post(
            f"{wallet.api}/credentials", data=b"<xml/>", headers={"Content-Type": "text/xml"}
        )
    )
    assert wrong_type.status_code == 415
    not_a_badge = wallet.post_json("/credentials", {"type": ["VerifiableCredential"], "id": "x"})
    assert not_a_badge.status_code == 400
    assert _minor(not_a_badge) == "invalid_data"
    bad_limit = wallet.get("/credentials", limit=0)
    assert bad_limit.status_code == 400
