"""LTI Dynamic Registration against the real test LMS: a registration link works once, for
its institution only, and an LMS whose configuration does not hang together is refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.test import override_settings
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from lti import configuration
from lti.models import Platform, RegistrationInvite
from tests.base import Cast, make_cast
from tests.lms.server import Lms

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def poly(live_server: LiveServer) -> Iterator[tuple[Cast, str]]:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        cast = make_cast()
        _invite, token = configuration.create_invite(
            actor=cast.owner, institution=cast.institution, name="Moodle"
        )
        yield cast, f"{live_server.url}/lti/register/{token}/"


def test_the_lms_and_insignia_register_each_other(lms: Lms, poly: tuple[Cast, str]) -> None:
    cast, link = poly
    grant = lms.registration_token()

    answer = requests.get(
        link,
        params={
            "openid_configuration": grant["openid_configuration"],
            "registration_token": grant["registration_token"],
        },
        timeout=20,
    )

    assert answer.status_code == 200, answer.text[:2000]
    assert "Insignia is registered" in answer.text
    assert "org.imsglobal.lti.close" in answer.text
    platform = Platform.objects.get()
    assert (platform.institution, platform.issuer) == (cast.institution, lms.issuer)
    tool = next(t for t in lms.tools() if t["client_id"] == platform.client_id)
    assert tool["oidc_login_url"].endswith(f"/lti/{cast.institution.slug}/login/")
    assert RegistrationInvite.objects.get().used_at is not None


def test_a_registration_token_the_lms_does_not_know_registers_nothing(
    lms: Lms, poly: tuple[Cast, str]
) -> None:
    _cast, link = poly
    grant = lms.registration_token()
    answer = requests.get(
        link,
        params={
            "openid_configuration": grant["openid_configuration"],
            "registration_token": "made-up",
        },
        timeout=20,
    )

    assert answer.status_code == 400
    assert "The LMS did not accept the registration" in answer.text
    assert Platform.objects.count() == 0
    assert RegistrationInvite.objects.get().used_at is None  # still usable


def test_an_unknown_link_or_a_link_opened_without_the_lms_is_refused(
    lms: Lms, poly: tuple[Cast, str], live_server: LiveServer
) -> None:
    _cast, link = poly
    unknown = requests.get(f"{live_server.url}/lti/register/not-a-token/", timeout=10)
    assert unknown.status_code == 404
    assert "expired or was already used" in unknown.text

    bare = requests.get(link, timeout=10)
    assert bare.status_code == 400
    assert "Open this link from your LMS" in bare.text


class Impostor(BaseHTTPRequestHandler):
    """An "LMS" whose configuration claims someone else's issuer."""

    def do_GET(self) -> None:
        body = json.dumps(
            {
                "issuer": "https://canvas.instructure.com",
                "authorization_endpoint": "http://impostor.test/auth",
                "token_endpoint": "http://impostor.test/token",
                "jwks_uri": "http://impostor.test/jwks",
                "registration_endpoint": "http://impostor.test/register",
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.dumps(
            {
                "client_id": "stolen",
                "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "1"},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_configuration_naming_another_sites_issuer_is_refused(
    poly: tuple[Cast, str], settings: Settings
) -> None:
    _cast, link = poly
    server = ThreadingHTTPServer(("127.0.0.1", 0), Impostor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.INSIGNIA_FETCH_ALLOWLIST = {"impostor.test": f"127.0.0.1:{server.server_address[1]}"}
    try:
        answer = requests.get(
            link,
            params={
                "openid_configuration": "http://impostor.test/.well-known/openid-configuration"
            },
            timeout=20,
        )
    finally:
        server.shutdown()

    assert answer.status_code == 400
    assert "names an issuer on another site" in answer.text
    assert Platform.objects.count() == 0


def test_a_configuration_url_on_an_internal_address_is_not_fetched(
    poly: tuple[Cast, str], settings: Settings
) -> None:
    _cast, link = poly
    settings.INSIGNIA_FETCH_ALLOWLIST = {}
    answer = requests.get(
        link,
        params={"openid_configuration": "http://169.254.169.254/latest/meta-data/"},
        timeout=20,
    )

    assert answer.status_code == 400
    assert "could not be reached" in answer.text
    assert Platform.objects.count() == 0
