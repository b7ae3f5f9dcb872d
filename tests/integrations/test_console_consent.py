"""The consent page of an app acting for a staff member (issue 14): authorisation code with
PKCE through Insignia's page gives a token that acts as the person, with their role; only a
member of the app's institution may approve it; a wallet is sent elsewhere; the person sees
the app under "Your API access" and disconnects it."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real
from oauth2_provider.models import AccessToken, Grant

from accounts.models import User
from integrations.models import ApiClient
from integrations.oauth import services
from issuers.models import AuditEvent
from tests.badges.helpers import make_published
from tests.base import Cast

pytestmark = pytest.mark.django_db

REDIRECT = "https://grading.example/callback"
CONSOLE_CATALOGUE = Path(settings.BASE_DIR) / "var" / "translations-console.json"


@pytest.fixture
def console_catalogue() -> Iterator[None]:
    """The zh-Hans strings of these pages, from ``var/translations-console.json`` until they
    are merged into ``locale/`` (then the compiled catalogue has them and this adds nothing).
    The process's translations are rebuilt afterwards."""
    if CONSOLE_CATALOGUE.exists():
        catalogue = trans_real.translation("zh-hans")._catalog  # type: ignore[attr-defined]
        for msgid, msgstr in json.loads(CONSOLE_CATALOGUE.read_text(encoding="utf-8")).items():
            catalogue[msgid] = msgstr
    yield
    trans_real._translations = {}  # type: ignore[attr-defined]  # rebuilt from the .mo on use
    trans_real._default = None  # type: ignore[attr-defined]
    translation.activate("en")


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def register_app(cast: Cast, **fields: Any) -> tuple[ApiClient, str]:
    return services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name=fields.pop("name", "Grading app"),
        grant_type="authorization-code",
        scopes=fields.pop("scopes", ["awards:read", "awards:write"]),
        redirect_uris=[REDIRECT],
        **fields,
    )


def authorize_params(app: ApiClient, challenge: str, scope: str = "awards:write") -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": app.application.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "s-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def approve(client: Client, params: dict[str, str]) -> Any:
    return client.post("/oauth/authorize/", {**params, "allow": "on"})


def exchange(app: ApiClient, secret: str, code: str, verifier: str) -> tuple[int, Any]:
    basic = base64.b64encode(f"{app.application.client_id}:{secret}".encode()).decode()
    response = Client().post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    return response.status_code, response.json()


def token_for(client: Client, person: User, app: ApiClient, secret: str) -> str:
    """The whole flow for ``person``: the consent page, approval, the code, the token."""
    verifier, challenge = pkce()
    params = authorize_params(app, challenge)
    client.force_login(person)
    assert client.get("/oauth/authorize/", params).status_code == 200
    answer = approve(client, params)
    assert answer.status_code == 302, answer.content.decode()
    code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
    status, body = exchange(app, secret, code, verifier)
    assert status == 200, body
    return str(body["access_token"])


def award(key: str, achievement_id: object, email: str = "ada@example.com") -> Any:
    return Client().post(
        f"/api/v1/achievements/{achievement_id}/awards",
        {"email": email, "name": "Ada"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_a_staff_member_approves_an_app_which_then_acts_as_them(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    app, secret = register_app(cast, issuers=[cast.issuer])
    verifier, challenge = pkce()
    params = authorize_params(app, challenge, "awards:read awards:write")
    client.force_login(cast.awarder)

    page = client.get("/oauth/authorize/", params)

    assert page.status_code == 200
    body = page.content.decode()
    assert "Grading app" in body
    assert "Poly Technic" in body  # the app's institution
    assert "Award micro-credentials and upload bulk batches" in body  # scopes in plain words
    assert "Read awards, their state, bulk uploads and claims" in body
    assert "Only for these issuers:" in body
    assert "Poly Engineering" in body
    assert "awarder@poly.example" in body
    assert not Grant.objects.exists()

    answer = approve(client, params)

    assert answer.status_code == 302
    location = urlsplit(answer["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["s-123"]
    # PKCE: the code is worth nothing without the verifier.
    assert exchange(app, secret, query["code"][0], "wrong-" + verifier)[0] == 400
    answer = approve(client, params)
    code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
    status, token = exchange(app, secret, code, verifier)
    assert status == 200, token
    stored = AccessToken.objects.get(user=cast.awarder)
    assert stored.application == app.application

    made = award(token["access_token"], version.achievement_id)
    assert made.status_code == 201, made.content
    assert AuditEvent.objects.get(action="award.issued").actor == cast.awarder


def test_an_approved_app_never_does_more_than_the_persons_role(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    app, secret = register_app(cast)
    key = token_for(client, cast.viewer, app, secret)

    assert award(key, version.achievement_id).status_code == 403


def test_a_member_of_another_institution_is_refused(client: Client, cast: Cast) -> None:
    app, _secret = register_app(cast)
    _verifier, challenge = pkce()
    params = authorize_params(app, challenge)
    client.force_login(cast.outsider)  # owner of Rival College only

    page = client.get("/oauth/authorize/", params)
    approved = approve(client, params)

    assert page.status_code == approved.status_code == 403
    assert "You cannot approve this app" in page.content.decode()
    assert "do not hold a role there" in page.content.decode()
    assert "Location" not in approved
    assert not Grant.objects.exists()
    assert not AccessToken.objects.exists()


def test_a_wallet_is_refused_here(client: Client, cast: Cast) -> None:
    wallet, _secret = services.register_wallet(
        name="Pocket Wallet",
        redirect_uris=[REDIRECT],
        scopes=["https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"],
        metadata={},
    )
    _verifier, challenge = pkce()
    params = authorize_params(wallet, challenge)
    params["scope"] = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"
    client.force_login(cast.owner)

    page = client.get("/oauth/authorize/", params)
    approved = approve(client, params)

    assert page.status_code == approved.status_code == 400
    assert "is a wallet or backpack" in page.content.decode()
    assert not Grant.objects.exists()


def test_a_revoked_app_is_refused(client: Client, cast: Cast) -> None:
    app, _secret = register_app(cast)
    services.revoke_client(actor=cast.owner, client=app)
    _verifier, challenge = pkce()
    client.force_login(cast.awarder)

    page = client.get("/oauth/authorize/", authorize_params(app, challenge))

    assert page.status_code == 400
    assert "was revoked" in page.content.decode()


def test_a_request_naming_an_issuer_shows_the_limit_on_the_consent_page(
    client: Client, cast: Cast
) -> None:
    app, _secret = register_app(cast)
    _verifier, challenge = pkce()
    client.force_login(cast.awarder)

    page = client.get(
        "/oauth/authorize/",
        authorize_params(app, challenge, f"awards:write issuer:{cast.issuer.slug}"),
    )

    assert page.status_code == 200
    assert cast.issuer.name_en in page.content.decode()
    assert not Grant.objects.exists()


def test_denying_sends_the_person_back_with_access_denied(client: Client, cast: Cast) -> None:
    app, _secret = register_app(cast)
    _verifier, challenge = pkce()
    params = authorize_params(app, challenge)
    client.force_login(cast.awarder)

    answer = client.post("/oauth/authorize/", params)  # the "Deny" button sends no "allow"

    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer["Location"]).query)["error"] == ["access_denied"]
    assert not Grant.objects.exists()


def test_a_request_without_pkce_gets_an_error_page_not_a_code(client: Client, cast: Cast) -> None:
    app, _secret = register_app(cast)
    params = authorize_params(app, "x")
    del params["code_challenge"], params["code_challenge_method"]
    client.force_login(cast.awarder)

    answer = client.get("/oauth/authorize/", params)

    assert answer.status_code == 302  # back to the registered app, with the error
    assert "code=" not in answer["Location"]
    assert "error=invalid_request" in answer["Location"]


def test_an_unknown_client_gets_the_error_page(client: Client, cast: Cast) -> None:
    client.force_login(cast.awarder)
    page = client.get("/oauth/authorize/", {**authorize_params(_fake(), "x")})
    assert page.status_code == 400
    assert "This sign-in request cannot be completed" in page.content.decode()


def test_an_approval_for_an_unknown_client_is_refused(client: Client, cast: Cast) -> None:
    client.force_login(cast.awarder)
    answer = approve(client, authorize_params(_fake(), "x"))
    assert answer.status_code == 400
    assert "not registered with Insignia" in answer.content.decode()


def _fake() -> Any:
    class _Application:
        client_id = "no-such-client"

    class _Client:
        application = _Application()

    return _Client()


def test_an_anonymous_visitor_is_sent_to_staff_sign_in_first(client: Client, cast: Cast) -> None:
    app, _secret = register_app(cast)
    _verifier, challenge = pkce()
    answer = client.get("/oauth/authorize/", authorize_params(app, challenge))
    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("manage:login") + "?next=/oauth/authorize/")


def test_the_consent_page_is_in_chinese_for_a_chinese_reader(
    client: Client, cast: Cast, console_catalogue: None
) -> None:
    app, _secret = register_app(cast, name="评分系统")
    _verifier, challenge = pkce()
    client.force_login(cast.awarder)

    page = client.get(
        "/oauth/authorize/", authorize_params(app, challenge), HTTP_ACCEPT_LANGUAGE="zh-CN"
    )

    body = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="zh-Hans">' in body
    assert "评分系统" in body
    assert "理工学院" in body  # the institution's Chinese name
    assert "允许“评分系统”以您的身份使用 Insignia？" in body
    assert "颁发微证书并上传批量颁发文件" in body  # awards:write in plain words
    assert "批准" in body
    assert "拒绝" in body
    assert "Approve" not in body
    assert "It will be able to" not in body


def test_the_person_sees_the_app_they_approved_and_disconnects_it(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    app, secret = register_app(cast)
    other, other_secret = register_app(cast, name="Not approved by the awarder")
    token_for(client, cast.editor, other, other_secret)
    key = token_for(client, cast.awarder, app, secret)
    page = reverse("manage:account_tokens")
    disconnect = reverse("manage:account_app_disconnect", args=[app.application.client_id])

    listed = client.get(page).content.decode()
    assert "Grading app" in listed
    assert "Not approved by the awarder" not in listed
    assert disconnect in listed
    assert client.get(disconnect).status_code == 200
    assert award(key, version.achievement_id).status_code == 201  # GET only asks
    done = client.post(disconnect, follow=True)

    assert "is disconnected" in done.content.decode()
    assert award(key, version.achievement_id, "bo@example.com").status_code == 401
    assert "Grading app" not in client.get(page).content.decode()
    assert client.post(disconnect).status_code == 404  # nothing left to disconnect
    # The editor's approval of the other app is untouched.
    assert AccessToken.objects.filter(user=cast.editor).count() == 1
    client.force_login(cast.outsider)
    other_disconnect = reverse("manage:account_app_disconnect", args=[other.application.client_id])
    assert client.post(other_disconnect).status_code == 404
    assert AccessToken.objects.filter(user=cast.editor).count() == 1
