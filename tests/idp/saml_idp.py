"""A real SAML 2.0 identity provider for the tests and for trying sign-on out by hand.

pysaml2's ``Server`` answers over HTTP on 127.0.0.1 (wsgiref, in a thread), with its own key
and self-signed certificate made at start: metadata at ``/metadata``, single sign-on at
``/sso`` (HTTP-Redirect, signed requests required) with a one-field login form (user name
only), sign-ins started at the identity provider at ``/idp-initiated?sp=<entity ID>``, and
single logout at ``/slo`` (both directions). Answers are signed (response and assertion) and
posted to the service provider's assertion consumer service by an auto-submitting form.

Tests also build answers no honest identity provider would send (:meth:`SamlIdP.response`):
signed by another key, expired, for another audience, unsigned.

By hand, beside ``make run``::

    python -m tests.idp.saml_idp --port 8090 \\
        --sp-metadata http://127.0.0.1:8000/signon/<institution>/saml/metadata/

then give the institution's campus sign-on settings the printed metadata URL (or the file
saved from it). Its key is made afresh at each start: give the settings its metadata again
after a restart.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import html
import http.client
import secrets
import tempfile
import threading
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, class_name, samlp
from saml2.authn_context import PASSWORD, AuthnBroker, authn_context_class_ref
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.server import Server
from saml2.sigver import pre_signature_part, security_context, signed_instance_factory
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

#: The people this identity provider knows, with the attributes it releases (friendly names;
#: pysaml2 sends them under their OIDs).
USERS: dict[str, dict[str, list[str]]] = {
    "staff1": {
        "mail": ["staff1@uni.test"],
        "displayName": ["Sam Staff"],
        "eduPersonPrincipalName": ["staff1@uni.test"],
        "eduPersonAffiliation": ["staff", "member"],
        "eduPersonScopedAffiliation": ["staff@uni.test", "member@uni.test"],
    },
    "learner1": {
        "mail": ["learner1@uni.test"],
        "displayName": ["Lee Learner"],
        "eduPersonPrincipalName": ["learner1@uni.test"],
        "eduPersonAffiliation": ["student", "member"],
        "schacPersonalUniqueCode": [
            "urn:schac:personalUniqueCode:nz:local:uni.test:studentid:20261234"
        ],
    },
    # Someone the identity provider knows only by a transient NameID (no stable identifier).
    "guest1": {"mail": ["guest1@uni.test"], "displayName": ["Gus Guest"]},
}
TRANSIENT_ONLY = frozenset({"guest1"})


def make_key_pair(common_name: str) -> tuple[str, str]:
    """A fresh RSA key and self-signed certificate (PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return (
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        cert.public_bytes(serialization.Encoding.PEM).decode(),
    )


def samlp_entity_id(metadata: str) -> str:
    """The entity ID of a metadata document."""
    from saml2.md import entity_descriptor_from_string

    return str(entity_descriptor_from_string(metadata).entity_id)


@dataclass
class Form:
    """An HTML form as a browser would submit it."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.forms.append(Form(html.unescape(found.get("action") or "")))
        elif tag == "input" and self.forms and found.get("name"):
            self.forms[-1].fields[str(found["name"])] = html.unescape(found.get("value") or "")


def read_form(page: str | bytes) -> Form:
    """The first form of an HTML page."""
    reader = _FormReader()
    reader.feed(page.decode() if isinstance(page, bytes) else page)
    if not reader.forms:
        raise AssertionError(f"no form in the page: {page[:500]!r}")
    return reader.forms[0]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class SamlIdP:
    """The identity provider. Use as a context manager (it serves while inside)."""

    def __init__(self, port: int = 0, users: dict[str, dict[str, list[str]]] | None = None) -> None:
        self.users = users or USERS
        self._folder = tempfile.TemporaryDirectory(prefix="test-idp-")
        folder = Path(self._folder.name)
        self._httpd = make_server(
            "127.0.0.1", port, self._app, server_class=_ThreadingServer, handler_class=_Quiet
        )
        self.base_url = f"http://127.0.0.1:{self._httpd.server_port}"
        self.entity_id = f"{self.base_url}/metadata"
        key, cert = make_key_pair("Test IdP")
        (folder / "idp.key").write_text(key)
        (folder / "idp.crt").write_text(cert)
        rogue_key, rogue_cert = make_key_pair("Someone else")
        (folder / "rogue.key").write_text(rogue_key)
        (folder / "rogue.crt").write_text(rogue_cert)
        self.config = self._config(str(folder / "idp.key"), str(folder / "idp.crt"))
        self.server = Server(config=self.config)
        self._rogue = security_context(
            self._config(str(folder / "rogue.key"), str(folder / "rogue.crt"))
        )
        self.broker = AuthnBroker()
        self.broker.add(authn_context_class_ref(PASSWORD), "")
        self._tickets: dict[str, tuple[Any, str]] = {}
        #: ``(username, name_id, session_index)`` of each session, by service provider.
        self.sessions: dict[tuple[str, str], tuple[NameID, str]] = {}
        #: LogoutRequests received from service providers, and answers to ours.
        self.logout_requests: list[Any] = []
        self.logout_answers: list[Any] = []
        self._thread: threading.Thread | None = None
        #: Where to read service providers' metadata again before each sign-in (by hand).
        self.sp_sources: list[Callable[[], str]] = []

    def _config(self, key_file: str, cert_file: str) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "name": "Uni Test IdP",
                "key_file": key_file,
                "cert_file": cert_file,
                "metadata": {},
                "accepted_time_diff": 60,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "service": {
                    "idp": {
                        "name": "Uni Test IdP",
                        "endpoints": {
                            "single_sign_on_service": [
                                (f"{self.base_url}/sso", BINDING_HTTP_REDIRECT)
                            ],
                            "single_logout_service": [
                                (f"{self.base_url}/slo", BINDING_HTTP_REDIRECT)
                            ],
                        },
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT],
                        "want_authn_requests_signed": True,
                        "sign_response": True,
                        "sign_assertion": True,
                    }
                },
            }
        )
        return config

    # ---------------------------------------------------------------------------------------
    # Running

    def __enter__(self) -> SamlIdP:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._folder.cleanup()

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def metadata_xml(self) -> str:
        return str(entity_descriptor(self.config))

    def trust_sp(self, metadata: str | bytes) -> None:
        """Know a service provider (its signed metadata, as served by Insignia)."""
        text = metadata.decode() if isinstance(metadata, bytes) else metadata
        entity_id = samlp_entity_id(text)
        store = self.server.metadata
        for key, source in list(store.metadata.items()):
            if entity_id in source:  # a newer copy (new keys) replaces the old one
                del store.metadata[key]
        store.load("inline", text)

    def refresh_sps(self) -> None:
        for source in self.sp_sources:
            try:
                self.trust_sp(source())
            except Exception as error:  # the service provider is not up yet: say so, go on
                print(f"Cannot read service provider metadata: {error}")  # noqa: T201

    # ---------------------------------------------------------------------------------------
    # Building answers

    def _acs(self, sp_entity_id: str) -> str:
        services = self.server.metadata.assertion_consumer_service(sp_entity_id, BINDING_HTTP_POST)
        return str(services[0]["location"])

    def _name_id(self, username: str, sp_entity_id: str) -> NameID:
        if username in TRANSIENT_ONLY:
            return NameID(format=NAMEID_FORMAT_TRANSIENT, text=secrets.token_hex(16))
        value = hashlib.sha256(f"{self.entity_id}!{sp_entity_id}!{username}".encode()).hexdigest()
        return NameID(
            format=NAMEID_FORMAT_PERSISTENT,
            text=value[:32],
            name_qualifier=self.entity_id,
            sp_name_qualifier=sp_entity_id,
        )

    def response(
        self,
        sp_entity_id: str,
        username: str,
        *,
        in_response_to: str | None = None,
        signer: str | None = "idp",
        expired: bool = False,
        audience: str | None = None,
        destination: str | None = None,
        encrypt: bool = False,
    ) -> str:
        """A ``<Response>`` for ``username`` (base64, as posted). ``signer`` is ``"idp"``,
        ``"rogue"`` (a key the service provider has never seen) or ``None`` (unsigned);
        ``expired`` moves every time into the past; ``audience`` names another service
        provider; ``encrypt`` encrypts the assertion for the service provider."""
        name_id = self._name_id(username, sp_entity_id)
        acs = destination or self._acs(sp_entity_id)
        if encrypt:
            # The assertion signed, then encrypted for the service provider's encryption
            # certificate from its metadata (as Shibboleth does by default), in a signed
            # response.
            text = self.server.create_authn_response(
                dict(self.users[username]),
                in_response_to,
                acs,
                sp_entity_id,
                name_id=name_id,
                authn={"class_ref": PASSWORD, "authn_auth": self.entity_id},
                sign_response=True,
                sign_assertion=True,
                encrypt_assertion=True,
                encrypt_assertion_self_contained=True,
            )
            return base64.b64encode(str(text).encode()).decode()
        xml = self.server.create_authn_response(
            dict(self.users[username]),
            in_response_to,
            acs,
            sp_entity_id,
            name_id=name_id,
            authn={"class_ref": PASSWORD, "authn_auth": self.entity_id},
            sign_response=False,
            sign_assertion=False,
        )
        message = samlp.response_from_string(str(xml))
        assertion = message.assertion[0]
        session_index = assertion.authn_statement[0].session_index
        self.sessions[(sp_entity_id, username)] = (name_id, session_index)
        if expired:
            past = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
            older = (datetime.now(UTC) - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
            message.issue_instant = assertion.issue_instant = older
            assertion.conditions.not_before = older
            assertion.conditions.not_on_or_after = past
            for confirmation in assertion.subject.subject_confirmation:
                confirmation.subject_confirmation_data.not_on_or_after = past
            assertion.authn_statement[0].authn_instant = older
        if audience is not None:
            assertion.conditions.audience_restriction[0].audience[0].text = audience
        if signer is None:
            text = message.to_string().decode()
        else:
            context = self.server.sec if signer == "idp" else self._rogue
            assertion.signature = pre_signature_part(
                assertion.id, context.my_cert, 1, DIGEST_SHA256, SIG_RSA_SHA256
            )
            message.signature = pre_signature_part(
                message.id, context.my_cert, 2, DIGEST_SHA256, SIG_RSA_SHA256
            )
            text = signed_instance_factory(
                message,
                context,
                [(class_name(assertion), assertion.id), (class_name(message), message.id)],
            )
        return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()

    def answer(self, redirect_url: str, username: str) -> Form:
        """Be the browser at the identity provider: follow the service provider's redirect
        (over HTTP), sign in as ``username`` and return the form that posts the answer."""
        with urllib.request.urlopen(redirect_url, timeout=10) as page:  # noqa: S310 - our own loopback server
            login = read_form(page.read())
        return self._submit(login, username)

    def start_unsolicited(self, sp_entity_id: str, username: str, relay_state: str = "") -> Form:
        """Be the browser at the identity provider's portal: start a sign-in to
        ``sp_entity_id`` there (no request from the service provider)."""
        query = urlencode({"sp": sp_entity_id, "RelayState": relay_state})
        with urllib.request.urlopen(f"{self.base_url}/idp-initiated?{query}", timeout=10) as page:  # noqa: S310
            login = read_form(page.read())
        return self._submit(login, username)

    def _submit(self, login: Form, username: str) -> Form:
        data = urlencode({**login.fields, "username": username}).encode()
        url = login.action if login.action.startswith("http") else self.base_url + login.action
        with urllib.request.urlopen(url, data=data, timeout=10) as page:  # noqa: S310
            return read_form(page.read())

    def visit(self, url: str) -> tuple[int, str, str]:
        """GET ``url`` at the identity provider without following a redirect: status,
        ``Location`` and body."""
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        try:
            connection.request("GET", f"{parts.path}?{parts.query}")
            answer = connection.getresponse()
            return answer.status, answer.getheader("Location") or "", answer.read().decode()
        finally:
            connection.close()

    def logout_request_url(self, sp_entity_id: str, username: str) -> str:
        """A signed ``<LogoutRequest>`` to the service provider for ``username``'s session
        there (the person signed out at the identity provider): the URL to visit."""
        name_id, session_index = self.sessions[(sp_entity_id, username)]
        services = self.server.metadata.single_logout_service(
            sp_entity_id, BINDING_HTTP_REDIRECT, "spsso"
        )
        destination = str(services[0]["location"])
        _request_id, request = self.server.create_logout_request(
            destination,
            sp_entity_id,
            name_id=name_id,
            session_indexes=[session_index],
            sign=False,
        )
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT, str(request), destination, "", sign=True, sigalg=SIG_RSA_SHA256
        )
        return str(dict(info["headers"])["Location"])

    # ---------------------------------------------------------------------------------------
    # HTTP

    def _app(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            if path == "/metadata":
                return self._reply(
                    start_response, self.metadata_xml, "application/samlmetadata+xml"
                )
            if path == "/sso":
                return self._sso(start_response, query)
            if path == "/idp-initiated":
                ticket = secrets.token_urlsafe(16)
                self._tickets[ticket] = (query.get("sp", ""), query.get("RelayState", ""))
                return self._login_page(start_response, ticket)
            if path == "/login" and environ.get("REQUEST_METHOD") == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                posted = {
                    k: v[0]
                    for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()
                }
                return self._login(start_response, posted)
            if path == "/slo":
                return self._slo(start_response, query)
        except Exception as error:  # a test identity provider says what went wrong
            return self._reply(
                start_response,
                f"IdP error: {type(error).__name__}: {error}",
                status="400 Bad Request",
            )
        return self._reply(start_response, "not found", status="404 Not Found")

    def _reply(
        self,
        start_response: StartResponse,
        body: str,
        content_type: str = "text/plain",
        status: str = "200 OK",
        headers: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        encoded = body.encode()
        start_response(
            status,
            [
                ("Content-Type", f"{content_type}; charset=utf-8"),
                ("Content-Length", str(len(encoded))),
                *(headers or []),
            ],
        )
        return [encoded]

    def _sso(self, start_response: StartResponse, query: dict[str, str]) -> list[bytes]:
        self.refresh_sps()
        request = self.server.parse_authn_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        ticket = secrets.token_urlsafe(16)
        self._tickets[ticket] = (request.message, query.get("RelayState", ""))
        return self._login_page(start_response, ticket)

    def _login_page(self, start_response: StartResponse, ticket: str) -> list[bytes]:
        people = ", ".join(sorted(self.users))
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Uni Test IdP</title></head><body><h1>Uni Test IdP</h1>
<form method="post" action="/login"><input type="hidden" name="ticket" value="{ticket}">
<label for="username">User name</label> <input id="username" name="username" value="">
<button type="submit">Sign in</button></form><p>Users: {html.escape(people)}</p></body></html>"""
        return self._reply(start_response, page, "text/html")

    def _login(self, start_response: StartResponse, posted: dict[str, str]) -> list[bytes]:
        asked, relay_state = self._tickets.pop(posted.get("ticket", ""), (None, ""))
        username = posted.get("username", "").strip()
        if asked is None or username not in self.users:
            return self._reply(start_response, "Unknown user or ticket", status="403 Forbidden")
        if isinstance(asked, str):  # started here, for the service provider ``asked``
            sp_entity_id, request_id = asked, None
        else:
            sp_entity_id, request_id = asked.issuer.text, asked.id
        answer = self.response(sp_entity_id, username, in_response_to=request_id)
        fields = {"SAMLResponse": answer, "RelayState": relay_state}
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in fields.items()
        )
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Uni Test IdP</title></head><body>
<form id="answer" method="post" action="{html.escape(self._acs(sp_entity_id))}">{inputs}
<button type="submit">Continue</button></form>
<script>document.getElementById("answer").submit();</script></body></html>"""
        return self._reply(start_response, page, "text/html")

    def _slo(self, start_response: StartResponse, query: dict[str, str]) -> list[bytes]:
        if "SAMLResponse" in query:
            answer = self.server.parse_logout_request_response(
                query["SAMLResponse"], BINDING_HTTP_REDIRECT
            )
            self.logout_answers.append(answer.response)
            return self._reply(start_response, "Signed out at the IdP too.")
        request = self.server.parse_logout_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        if "Signature" not in query:
            return self._reply(start_response, "Unsigned LogoutRequest", status="403 Forbidden")
        self.logout_requests.append(request.message)
        response = self.server.create_logout_response(
            request.message, [BINDING_HTTP_REDIRECT], sign=False
        )
        services = self.server.metadata.single_logout_service(
            request.message.issuer.text, BINDING_HTTP_REDIRECT, "spsso"
        )
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            str(services[0]["location"]),
            query.get("RelayState", ""),
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        location = str(dict(info["headers"])["Location"])
        return self._reply(start_response, "", status="302 Found", headers=[("Location", location)])


def _read(source: str) -> str:
    if urlsplit(source).scheme in ("http", "https"):
        with urllib.request.urlopen(source, timeout=10) as answer:  # noqa: S310 - the developer's URL
            return str(answer.read().decode())
    return Path(source).read_text()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="A SAML identity provider to try Insignia's campus sign-on with"
    )
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--sp-metadata",
        action="append",
        default=[],
        help="an institution's metadata URL (…/signon/<institution>/saml/metadata/) or file; "
        "repeatable; URLs are read again before each sign-in",
    )
    parsed = parser.parse_args(argv)
    with SamlIdP(port=parsed.port) as idp:
        idp.sp_sources = [_read_later(source) for source in parsed.sp_metadata]
        idp.refresh_sps()
        lines = [
            f"Test SAML identity provider at {idp.base_url}",
            f"Users: {', '.join(sorted(idp.users))}",
            "In the institution's campus sign-on settings (console), either upload the metadata",
            f"  saved from {idp.metadata_url}",
            "or paste that URL, after starting `make run` with",
            f"  INSIGNIA_DEV_LOOPBACK_HOSTS=127.0.0.1:{parsed.port}",
            "so that the server may read it. Stop with Ctrl-C.",
        ]
        print("\n".join(lines))  # noqa: T201 - a developer's tool talks to the developer
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


def _read_later(source: str) -> Callable[[], str]:
    return lambda: _read(source)


if __name__ == "__main__":
    main()
