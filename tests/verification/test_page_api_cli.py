"""The verify page, ``POST /api/v1/verify`` and ``manage.py verify``: one pipeline, three doors."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings

import common.ratelimit
from badges.models import Award
from openbadges import baking
from tests.badges.helpers import award, make_published
from tests.base import Cast, png_bytes
from verification.models import Receipt

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_rate_limit_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limits' clock stands still, so a test's requests never straddle the edge of a
    fixed window (a request landing in the next minute was a flaky pass of the limit)."""
    monkeypatch.setattr(common.ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


@pytest.fixture
def demo(cast: Cast) -> Award:
    return award(cast.awarder, make_published(cast.owner, cast.issuer))


def test_the_page_verifies_a_url_from_a_qr_code_link(client: Client, demo: Award) -> None:
    response = client.get("/verify", {"url": demo.credential["id"]})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-verdict="valid"' in page
    assert "Valid: this badge is genuine" in page
    assert "Issued under version 1, which is the current version." in page


def test_the_page_verifies_pasted_json_in_chinese(client: Client, demo: Award) -> None:
    response = client.post(
        "/verify", {"text": demo.credential_json}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    page = response.content.decode()
    assert 'data-verdict="valid"' in page
    assert "有效" in page


def test_the_page_verifies_a_dropped_png(client: Client, demo: Award) -> None:
    baked = baking.bake_png(png_bytes(), demo.credential_json)
    response = client.post("/verify", {"file": io.BytesIO(baked)}, format="multipart")
    assert 'data-verdict="valid"' in response.content.decode()


def test_htmx_gets_only_the_result(client: Client, demo: Award) -> None:
    response = client.post("/verify", {"text": "not a badge"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert 'data-verdict="bad_input"' in page


def test_the_page_refuses_garbage_with_422(client: Client, cast: Cast) -> None:
    response = client.post("/verify", {"text": "{not json"})
    assert response.status_code == 422
    assert "This is not valid JSON." in response.content.decode()


def test_the_page_is_rate_limited_with_retry_after(
    client: Client, demo: Award, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_RATE_LIMIT = 2
    for _ in range(2):
        assert client.post("/verify", {"text": demo.credential_json}).status_code == 200
    response = client.post(
        "/verify", {"text": demo.credential_json}, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_behind_a_proxy_each_client_has_its_own_quota_and_cannot_spoof_another(
    client: Client, demo: Award, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_RATE_LIMIT = 1
    settings.INSIGNIA_TRUSTED_PROXIES = 1

    def post(forwarded: str) -> int:
        response = client.post(
            "/verify", {"text": demo.credential_json}, HTTP_X_FORWARDED_FOR=forwarded
        )
        return response.status_code

    assert post("198.51.100.1") == 200
    assert post("198.51.100.2") == 200  # another learner behind the same proxy
    # The first client again, pretending to be someone else in a header it wrote itself.
    assert post("203.0.113.77, 198.51.100.1") == 429


def test_recipient_guesses_have_their_own_tighter_limit(
    client: Client, demo: Award, settings: Settings
) -> None:
    settings.INSIGNIA_RECIPIENT_RATE_LIMIT = 3
    for guess in range(3):
        response = client.post(
            "/verify", {"text": demo.credential_json, "email": f"g{guess}@x.org"}
        )
        assert 'data-verdict="not_recipient"' in response.content.decode()
    response = client.post("/verify", {"text": demo.credential_json, "email": "g9@x.org"})
    assert response.status_code == 429


def test_a_receipt_is_signed_by_the_platform_and_has_a_permalink(
    client: Client, demo: Award
) -> None:
    import jwt

    from openbadges import multikey

    response = client.post(
        "/verify", {"text": demo.credential_json, "email": "learner@example.com"}
    )
    token = response.context["token"]
    saved = client.post("/verify/receipts", {"token": token})
    assert saved.status_code == 302
    page = client.get(saved["Location"])
    assert page.status_code == 200
    receipt = Receipt.objects.get()
    assert receipt.verdict == "valid"
    assert "learner@example.com" not in json.dumps(receipt.document) + receipt.jws
    did = client.get("/.well-known/did.json").json()
    method = did["verificationMethod"][0]
    public = multikey.public_key_from_bytes(
        multikey.decode_public_multibase(method["publicKeyMultibase"])
    )
    signed = client.get(saved["Location"] + ".json").json()
    header = jwt.get_unverified_header(signed["jws"])
    assert header["kid"] == method["id"]
    claims = jwt.decode(signed["jws"], public, algorithms=["EdDSA"])
    assert claims["verdict"] == "valid"
    assert {c["id"] for c in claims["checks"]} >= {"proof", "issuer_key", "recipient"}
    # A token is good for one receipt.
    assert client.post("/verify/receipts", {"token": token}).status_code == 410


def test_the_api_returns_the_same_report(client: Client, demo: Award) -> None:
    response = client.post(
        "/api/v1/verify",
        {"credential": demo.credential, "email": "nobody@example.com"},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "not_recipient"
    assert {c["id"] for c in body["checks"]} >= {"structure", "proof", "issuer_key", "status"}


def test_the_api_takes_an_image_and_can_save_a_receipt(client: Client, demo: Award) -> None:
    baked = baking.bake_png(png_bytes(), demo.credential_json)
    response = client.post(
        "/api/v1/verify",
        {"image": base64.b64encode(baked).decode(), "receipt": True},
        content_type="application/json",
    )
    body = response.json()
    assert body["verdict"] == "valid"
    assert body["receipt"].startswith("http")


def test_the_api_rejects_two_inputs_and_bad_input(client: Client, demo: Award) -> None:
    both = client.post(
        "/api/v1/verify",
        {"credential": demo.credential, "url": demo.credential["id"]},
        content_type="application/json",
    )
    assert both.status_code == 400
    garbage = client.post(
        "/api/v1/verify", {"credential": "hello"}, content_type="application/json"
    )
    assert garbage.status_code == 422
    assert garbage.json()["verdict"] == "bad_input"


def test_the_api_sheds_load_with_429_instead_of_queueing(
    client: Client, demo: Award, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_MAX_IN_FLIGHT = 0
    response = client.post(
        "/api/v1/verify", {"credential": demo.credential}, content_type="application/json"
    )
    assert response.status_code == 429
    assert response["Retry-After"] == "1"


def test_the_api_is_in_the_openapi_schema(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/verify"]["post"]
    assert operation["operationId"] == "verify_credential"
    assert "429" in operation["responses"]


def test_the_cli_exits_0_1_2(
    demo: Award, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "badge.json"
    good.write_text(demo.credential_json)
    bad = tmp_path / "tampered.json"
    bad.write_text(demo.credential_json.replace("Data Literacy", "Brain Surgery"))
    junk = tmp_path / "junk.txt"
    junk.write_text("hello")
    codes = {}
    for name, path, extra in (
        ("good", good, []),
        ("bad", bad, []),
        ("junk", junk, []),
        ("wrong email", good, ["--email", "x@y.org"]),
    ):
        with pytest.raises(SystemExit) as exit_info:
            call_command("verify", str(path), *extra, "--json")
        codes[name] = exit_info.value.code
    assert codes == {"good": 0, "bad": 1, "junk": 2, "wrong email": 1}
    out = capsys.readouterr().out
    assert '"verdict": "tampered"' in out
