"""A wallet and a learner's browser, as real HTTP clients of the live server.

The wallet is Authlib's ``OAuth2Session`` (PKCE S256); the learner's browser is a
``requests.Session`` that signs in and answers the consent page like a person (CSRF tokens
read from the pages). Every answer of the Open Badges API is checked against 1EdTech's
OpenAPI document with openapi-core, and every credential in it against the strict
AchievementCredential JSON schema (``tests/fixtures/ob3-api/formal/``, 1EdTech's generator
build; see ``SOURCE.md`` there).
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jsonschema  # type: ignore[import-untyped]
import requests
from authlib.integrations.requests_client import OAuth2Session
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from integrations.oauth import scopes
from tests.base import PASSWORD

FORMAL = Path(__file__).resolve().parent.parent / "fixtures" / "ob3-api" / "formal"
ALL_SCOPES = " ".join(
    [
        scopes.OB_CREDENTIAL_READONLY,
        scopes.OB_CREDENTIAL_UPSERT,
        scopes.OB_PROFILE_READONLY,
        scopes.OB_PROFILE_UPDATE,
    ]
)
WALLET_HOST = "http://127.0.0.1:8765"  # never contacted: the test reads the redirect itself
REDIRECT_URI = f"{WALLET_HOST}/callback"


@cache
def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FORMAL / name).read_text(encoding="utf-8"))
    return data


def strict_errors(document: Any, name: str) -> list[str]:
    """What the strict (formal) 1EdTech JSON schema ``name`` finds wrong with ``document``."""
    validator = jsonschema.Draft201909Validator(
        _schema(name), format_checker=jsonschema.FormatChecker()
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


class Spec:
    """1EdTech's OpenAPI document, with its example server replaced by the live server."""

    def __init__(self, base: str) -> None:
        document = copy.deepcopy(_schema("openapi.json"))
        document["servers"] = [{"url": f"{base}/ims/ob/v3p0"}]
        self.openapi = OpenAPI.from_dict(document)

    def check(self, response: requests.Response) -> requests.Response:
        """Validate the answer (and the credentials inside it); return it for chaining."""
        self.openapi.validate_response(
            RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
        )
        content_type = response.headers.get("Content-Type", "")
        if response.status_code < 300 and content_type.startswith("application/json"):
            body = response.json()
            path = urlsplit(str(response.url)).path
            if path.endswith("/credentials") and response.request.method == "GET":
                assert strict_errors(body, "getopenbadgecredentialsresponse.json") == []
                for credential in body["credential"]:
                    assert strict_errors(credential, "achievementcredential.json") == []
            elif path.endswith("/credentials"):
                assert strict_errors(body, "achievementcredential.json") == []
            elif path.endswith("/profile"):
                assert strict_errors(body, "profile.json") == []
        elif content_type.startswith("application/json"):
            assert strict_errors(response.json(), "imsx_statusinfo.json") == []
        return response


class _Forms(HTMLParser):
    """The fields of every form on a page: ``{form id or index: {name: value}}``."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({})
        elif tag == "input" and self.forms and "name" in found:
            self.forms[-1][found["name"]] = found.get("value", "")


def forms_of(html: str) -> list[dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_with(html: str, field_name: str) -> dict[str, str]:
    """The first form on the page that has a field ``field_name``."""
    return next(f for f in forms_of(html) if field_name in f)


@dataclass
class Browser:
    """The learner's browser: signs in when the server asks, then approves or denies."""

    base: str
    email: str
    session: requests.Session = field(default_factory=requests.Session)

    def open(self, url: str) -> requests.Response:
        """Follow redirects on our own server; stop at the first redirect elsewhere."""
        response = self.session.get(url, allow_redirects=False)
        while response.is_redirect and _on(self.base, response.headers["Location"]):
            target = _absolute(self.base, response.headers["Location"])
            if urlsplit(target).path == "/backpack/login/":
                response = self._sign_in(target)
            else:
                response = self.session.get(target, allow_redirects=False)
        return response

    def _sign_in(self, login_url: str) -> requests.Response:
        page = self.session.get(login_url)
        fields = form_with(page.text, "csrfmiddlewaretoken")
        fields.update({"username": self.email, "password": PASSWORD})
        done = self.session.post(
            login_url, data=fields, headers={"Referer": login_url}, allow_redirects=False
        )
        assert done.status_code == 302, done.text[:500]
        return self.session.get(
            _absolute(self.base, done.headers["Location"]), allow_redirects=False
        )

    def answer(self, consent: requests.Response, *, allow: bool) -> requests.Response:
        """Press "Allow" or "Deny" on the consent page."""
        fields = form_with(consent.text, "client_id")
        if allow:
            fields["allow"] = "true"
        return self.session.post(
            consent.url, data=fields, headers={"Referer": consent.url}, allow_redirects=False
        )


def _on(base: str, location: str) -> bool:
    return location.startswith(("/", base))


def _absolute(base: str, location: str) -> str:
    return base + location if location.startswith("/") else location


@dataclass
class Wallet:
    """A wallet registered with the platform (RFC 7591), holding an Authlib session."""

    base: str
    spec: Spec
    discovery: dict[str, Any]
    registration: dict[str, Any]
    session: OAuth2Session
    verifier: str = ""

    @property
    def flows(self) -> dict[str, Any]:
        scheme = self.discovery["components"]["securitySchemes"]["OAuth2ACG"]
        flows: dict[str, Any] = scheme["flows"]["authorizationCode"]
        return flows

    @property
    def api(self) -> str:
        return str(self.discovery["servers"][0]["url"])

    def authorization_url(self, **extra: str) -> str:
        self.verifier = secrets.token_urlsafe(48)
        url, _state = self.session.create_authorization_url(
            self.flows["authorizationUrl"], code_verifier=self.verifier, **extra
        )
        return str(url)

    def connect(self, browser: Browser) -> dict[str, Any]:
        """The whole dance: authorise with PKCE, the learner allows, exchange the code."""
        consent = browser.open(self.authorization_url())
        assert consent.status_code == 200, consent.text[:500]
        back = browser.answer(consent, allow=True)
        assert back.status_code == 302, back.text[:500]
        token: dict[str, Any] = self.session.fetch_token(
            self.flows["tokenUrl"],
            authorization_response=back.headers["Location"],
            code_verifier=self.verifier,
        )
        return token

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.spec.check(self.session.get(self.api + path, params=params or None))

    def post_json(self, path: str, document: dict[str, Any]) -> requests.Response:
        return self.spec.check(self.session.post(self.api + path, json=document))

    def post_text(self, path: str, text: str) -> requests.Response:
        return self.spec.check(
            self.session.post(
                self.api + path, data=text.encode(), headers={"Content-Type": "text/plain"}
            )
        )

    def put_json(self, path: str, document: dict[str, Any]) -> requests.Response:
        return self.spec.check(self.session.put(self.api + path, json=document))


def registration_request(**changes: Any) -> dict[str, Any]:
    """An RFC 7591 request with every field OB 3.0 §6.2 requires."""
    request: dict[str, Any] = {
        "client_name": "Pocket Wallet",
        "client_uri": f"{WALLET_HOST}/",
        "logo_uri": f"{WALLET_HOST}/logo.png",
        "tos_uri": f"{WALLET_HOST}/terms",
        "policy_uri": f"{WALLET_HOST}/privacy",
        "software_id": "pocket-wallet",
        "software_version": "1.0.0",
        "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": ALL_SCOPES,
    }
    request.update(changes)
    return request


def discover(base: str, spec: Spec) -> dict[str, Any]:
    response = spec.check(requests.get(f"{base}/ims/ob/v3p0/discovery", timeout=10))
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def register_wallet(base: str, spec: Spec, scope: str = ALL_SCOPES, **changes: Any) -> Wallet:
    """Discover, then register (RFC 7591) as OB 3.0 §6.2 describes."""
    document = discover(base, spec)
    url = document["components"]["securitySchemes"]["OAuth2ACG"]["x-imssf-registrationUrl"]
    answer = requests.post(url, json=registration_request(scope=scope, **changes), timeout=10)
    assert answer.status_code == 201, answer.text
    registered: dict[str, Any] = answer.json()
    session = OAuth2Session(
        registered["client_id"],
        registered.get("client_secret"),
        scope=scope,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method=registered["token_endpoint_auth_method"],
    )
    return Wallet(base, spec, document, registered, session)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def with_query(url: str, **changes: str | None) -> str:
    """``url`` with query parameters changed (``None`` removes one)."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return parts._replace(query=urlencode(query)).geturl()
