"""A throwaway LTI 1.3 tool on pylti1p3 (``pylti1p3next``), for the test LMS's own tests.

It serves, on 127.0.0.1 in a thread of the test process: ``/jwks``; ``/login`` (OIDC login
initiation, pylti1p3's ``OIDCLogin``); ``/launch`` and ``/deep-link`` (pylti1p3's
``MessageLaunch.validate()``: state, nonce, registration, signature against the LMS's JWKS,
deployment, message claims). A resource-link launch answers JSON with the claims (or 400 with
pylti1p3's complaint); a deep-linking launch answers pylti1p3's auto-submitting response form
with :attr:`MiniTool.deep_link_items`. ``/register`` is a dynamic-registration initiation
page built on pylti1p3's ``DynamicRegistration``.

One browser only: the pylti1p3 "session" and "cookies" are dicts of the tool, so a test
drives it with a single ``requests.Session`` (:func:`browse`, :func:`submit_form`). Validated
launches are kept in :attr:`MiniTool.launches`, so a test can call the LMS's AGS and NRPS
through pylti1p3's own service clients (``launch.get_ags()``, ``launch.get_nrps()``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import requests
from pylti1p3.cookie import CookieService
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.dynamic_registration import DynamicRegistration, generate_key_pair
from pylti1p3.lineitem import LineItem
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.redirect import Redirect
from pylti1p3.registration import Registration
from pylti1p3.request import Request
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.session import SessionService
from pylti1p3.tool_config.dict import ToolConfDict

ALL_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


class MiniRequest(Request):
    def __init__(self, tool: MiniTool, params: dict[str, str]) -> None:
        self.tool, self.params = tool, params

    @property
    def session(self) -> dict[str, Any]:
        return self.tool.session

    def is_secure(self) -> bool:
        return False

    def get_param(self, key: str) -> str:
        return self.params.get(key, "")


class MiniCookies(CookieService):
    def __init__(self, jar: dict[str, str]) -> None:
        self.jar = jar

    def get_cookie(self, name: str) -> str | None:
        return self.jar.get(name)

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        self.jar[name] = str(value)


class MiniRedirect(Redirect[str]):
    def __init__(self, url: str) -> None:
        self.url = url

    def do_redirect(self) -> str:
        return self.url

    def do_js_redirect(self) -> str:
        return self.url

    def set_redirect_url(self, location: str) -> None:
        self.url = location

    def get_redirect_url(self) -> str:
        return self.url


class MiniLogin(OIDCLogin[MiniRequest, ToolConfDict, SessionService, MiniCookies, str]):
    def get_redirect(self, url: str) -> Redirect[str]:
        return MiniRedirect(url)


class MiniConnector(ServiceConnector):
    """No token cache: every service call asks ``/token`` anew (each with a fresh ``jti``)."""

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        return None


class MiniLaunch(MessageLaunch[MiniRequest, ToolConfDict, SessionService, MiniCookies]):
    def _get_request_param(self, key: str) -> str:
        return self._request.get_param(key)


class MiniRegistration(DynamicRegistration):
    def __init__(self, tool: MiniTool, params: dict[str, str]) -> None:
        self.tool, self.params = tool, params
        self.client_name = tool.name

    def get_initiate_login_uri(self) -> str:
        return self.tool.url("/login")

    def get_jwks_uri(self) -> str:
        return self.tool.url("/jwks")

    def get_redirect_uris(self) -> list[str]:
        return [self.tool.url("/launch"), self.tool.url("/deep-link")]

    def get_scopes(self) -> list[str]:
        return list(ALL_SCOPES)

    def get_domain(self) -> str:
        return urlsplit(self.tool.base_url).netloc

    def get_target_link_uri(self) -> str:
        return self.tool.url("/launch")

    def get_claims(self) -> list[str]:
        return ["iss", "sub", "name", "email"]

    def get_messages(self) -> list[dict[str, str]]:
        return [{"type": "LtiDeepLinkingRequest", "target_link_uri": self.tool.url("/deep-link")}]

    def get_logo_uri(self) -> str:
        return self.tool.url("/logo.png")

    def get_openid_configuration_endpoint(self) -> str:
        return self.params.get("openid_configuration", "")

    def get_registration_token(self) -> str:
        return self.params.get("registration_token", "")

    def complete_registration(
        self, openid_configuration: dict[str, Any], openid_registration: dict[str, Any]
    ) -> dict[str, Any]:
        deployment = openid_registration["https://purl.imsglobal.org/spec/lti-tool-configuration"]
        self.tool.configure(
            openid_configuration["issuer"],
            openid_registration["client_id"],
            deployment["deployment_id"],
        )
        return openid_registration


class MiniTool:
    def __init__(self, name: str = "Mini Tool") -> None:
        self.name = name
        self.private_key, self.public_key = generate_key_pair(2048)
        self.session: dict[str, Any] = {}
        self.cookies: dict[str, str] = {}
        self.registrations: dict[str, list[dict[str, Any]]] = {}
        self.launches: list[MiniLaunch] = []
        self.deep_link_items: list[dict[str, Any]] = [
            {
                "title": "Weld inspection quiz",
                "custom": {"badge": "weld-inspector", "student": "$Person.sourcedId"},
                "lineItem": {"label": "Weld quiz", "scoreMaximum": 10, "tag": "quiz"},
            }
        ]
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def kid(self) -> str:
        return str(Registration.get_jwk(self.public_key)["kid"])

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(Registration.get_jwk(self.public_key))]}

    def sign(self, claims: dict[str, Any]) -> str:
        """A JWT signed with the tool's key (for hand-made deep-linking responses)."""
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})

    def client_assertion(self, client_id: str, audience: str, **changes: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
        }
        claims.update(changes)
        return self.sign(claims)

    def configure(self, issuer: str, client_id: str, deployment_id: str) -> None:
        self.registrations.setdefault(issuer, []).append(
            {
                "default": not self.registrations.get(issuer),
                "client_id": client_id,
                "auth_login_url": issuer + "/auth",
                "auth_token_url": issuer + "/token",
                "auth_audience": None,
                "key_set_url": issuer + "/jwks",
                "key_set": None,
                "deployment_ids": [deployment_id],
            }
        )

    def tool_config(self) -> ToolConfDict:
        conf = ToolConfDict(dict(self.registrations))  # type: ignore[arg-type]
        for issuer, entries in self.registrations.items():
            for entry in entries:
                conf.set_private_key(issuer, self.private_key, client_id=entry["client_id"])
                conf.set_public_key(issuer, self.public_key, client_id=entry["client_id"])
        return conf

    def login(self, params: dict[str, str]) -> str:
        request = MiniRequest(self, params)
        login = MiniLogin(
            request,
            self.tool_config(),
            session_service=SessionService(request),
            cookie_service=MiniCookies(self.cookies),
        )
        return login.redirect(params.get("target_link_uri") or self.url("/launch"))

    def launch(self, params: dict[str, str]) -> tuple[int, str, str]:
        """(status, content type, body) for a launch the LMS posted."""
        request = MiniRequest(self, params)
        message = MiniLaunch(
            request,
            self.tool_config(),
            session_service=SessionService(request),
            cookie_service=MiniCookies(self.cookies),
            service_connector_cls=MiniConnector,
        )
        try:
            body = dict(message.validate().get_launch_data())
        except Exception as error:  # pylti1p3 raises several kinds; the test reads the text
            return 400, "application/json", json.dumps({"error": str(error)})
        self.launches.append(message)
        if message.is_deep_link_launch():
            resources = [_resource(item, self.url("/launch")) for item in self.deep_link_items]
            return 200, "text/html", message.get_deep_link().output_response_form(resources)
        return 200, "application/json", json.dumps({"ok": True, "claims": body})

    def register_dynamically(self, params: dict[str, str]) -> str:
        registration = MiniRegistration(self, params)
        registration.register()
        page: str = registration.complete_html()  # type: ignore[no-untyped-call]
        return page

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _resource(item: dict[str, Any], default_url: str) -> DeepLinkResource:
    resource = DeepLinkResource().set_url(item.get("url", default_url)).set_title(item["title"])
    if item.get("custom"):
        resource.set_custom_params(item["custom"])
    if item.get("lineItem"):
        spec = item["lineItem"]
        line_item = LineItem().set_label(spec["label"]).set_score_maximum(spec["scoreMaximum"])
        if spec.get("tag"):
            line_item.set_tag(spec["tag"])
        if spec.get("resourceId"):
            line_item.set_resource_id(spec["resourceId"])
        resource.set_lineitem(line_item)
    return resource


def _handler_for(tool: MiniTool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _handle(self) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            params.update({k: v[0] for k, v in parse_qs(body).items()})
            status, kind, text, location = 200, "application/json", "", ""
            try:
                if url.path == "/jwks":
                    text = json.dumps(tool.jwks())
                elif url.path == "/login":
                    status, location = 302, tool.login(params)
                elif url.path in ("/launch", "/deep-link") and self.command == "POST":
                    status, kind, text = tool.launch(params)
                elif url.path == "/register":
                    kind, text = "text/html", tool.register_dynamically(params)
                else:
                    status, text = 404, json.dumps({"error": "not found"})
            except Exception as error:  # show the test what pylti1p3 said
                status, text = 400, json.dumps({"error": f"{type(error).__name__}: {error}"})
            payload = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            if location:
                self.send_header("Location", location)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")


def parse_form(html_text: str) -> tuple[str, dict[str, str]]:
    """The first form of a page: its action and its inputs."""
    parser = _FormParser()
    parser.feed(html_text)
    assert parser.action is not None, html_text[:500]
    return parser.action, parser.fields


def submit_form(http: requests.Session, response: requests.Response) -> requests.Response:
    """Do what the page's auto-submitting script does (POST its first form), no redirects."""
    action, fields = parse_form(response.text)
    return http.post(urljoin(response.url, action), data=fields, allow_redirects=False, timeout=10)


def browse(http: requests.Session, launch_url: str) -> requests.Response:
    """Follow an LMS launch to the tool: /launch → tool login → /auth → form POST to the tool."""
    at_auth = http.get(launch_url, timeout=10)
    assert at_auth.status_code == 200, at_auth.text
    return submit_form(http, at_auth)
