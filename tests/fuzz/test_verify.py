"""Fuzzing the verify API and the verify page (research S-30).

Four targets, each within its share of ``INSIGNIA_FUZZ_SECONDS`` (``tests/fuzz/engine.py``):

* ``verify_api_schema``: Schemathesis, positive and negative cases of ``verify_credential``
  from the OpenAPI document the project serves, with every check but "schema-valid data is
  accepted" (``{}`` is schema-valid and rightly refused: give exactly one of three fields);
* ``verify_api_hostile_json``: signed credentials (ours, a did:key one, an OB 2.0
  assertion, a VC-JWT) with hostile edits (``tests/fuzz/hostile.py``), as an object, as a
  string, and as damaged bytes, and any text with lone surrogates;
* ``verify_single_byte_mutations``: one byte of a signed credential's canonical JSON
  changed must never verify as valid;
* ``verify_page_uploads``: the page's form: mutated baked PNGs and SVGs and JSON files,
  pasted text, and mutated links to our own documents.

No answer may be a 5xx or show a stack trace; API reports must be well formed. Requests
never leave the machine (``tests/fuzz/conftest.py``).
"""

from __future__ import annotations

import base64
import io
import json
import traceback
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.core.result import Ok

from badges.models import Award
from insignia.wsgi import application
from openbadges import baking, multikey
from tests.badges.helpers import award, make_published
from tests.base import Cast, png_bytes
from tests.fuzz.engine import Tally, fuzz
from tests.fuzz.hostile import OB2_ASSERTION, Raw, dumps, hostile_credential, hostile_jws
from tests.fuzz.mutations import SVG, mutated, png_mutated, svg_mutated
from tests.verification.helpers import did_key_credential
from verification.report import Verdict

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited")]

# (``st.text`` never yields lone surrogates, whatever its alphabet; a list of characters does.)
ODD_TEXT = st.lists(
    st.one_of(
        st.characters(codec=None),
        st.characters(categories=["Cs"]),  # lone surrogates: JSON can escape them
        st.sampled_from(["\x00", "\ufeff", "\u202e", "\uffff", "{", '"', "\\"]),
    ),
    max_size=60,
).map("".join)
VERDICTS = {verdict.value for verdict in Verdict}
TRACE_MARKERS = (
    "Traceback (most recent call last)",
    'File "/',
    "site-packages",
    "django.core.handlers",
    "Exception Value",
)


@pytest.fixture
def own(cast: Cast) -> Award:
    return award(cast.awarder, make_published(cast.owner, cast.issuer))


@pytest.fixture
def same_connection() -> Iterator[None]:
    """WSGI requests run inside the test's transaction (as the test client's do)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _no_server_error(tally: Tally, status: int, body: str, exc_info: Any = None) -> None:
    tally.status(status)
    trace = "".join(traceback.format_exception(*exc_info)) if exc_info else ""
    assert status < 500, f"HTTP {status} for {tally.current}\n{trace}"
    shown = [marker for marker in TRACE_MARKERS if marker in body]
    assert not shown, f"the answer shows a stack trace ({shown}) for {tally.current}"


def _report(tally: Tally, response: Any, sent: int = 0) -> None:
    """An API answer: no 5xx, no trace; a report (200/422) is well formed. A body of
    ``sent`` bytes over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` gets Django's own 400 page."""
    _no_server_error(
        tally, response.status_code, response.content.decode("utf-8", "replace"), response.exc_info
    )
    assert response.status_code in (200, 400, 422), response.status_code
    if sent > settings.DATA_UPLOAD_MAX_MEMORY_SIZE and response.status_code == 400:
        tally.outcome("refused by Django: body too large")
        return
    body = response.json()
    assert isinstance(body, dict)
    if response.status_code != 400:
        assert body["verdict"] in VERDICTS
        assert body["valid"] is (body["verdict"] == "valid")
        assert (response.status_code == 422) is (body["verdict"] == "bad_input")
        tally.outcome(f"verdict {body['verdict']}")


def _client() -> Client:
    return Client(raise_request_exception=False)


# --------------------------------------------------------------------------------------------
# Schemathesis
# --------------------------------------------------------------------------------------------


def test_verify_api_schema(own: Award, same_connection: None) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    found = [
        result.ok()
        for result in schema.get_all_operations()
        if isinstance(result, Ok) and result.ok().path == "/api/v1/verify"
    ]
    assert [operation.method.upper() for operation in found] == ["POST"]
    operation = found[0]
    cases = st.one_of(
        operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    )
    # Most generated bodies give none or several of url, credential and image (a 400); half
    # the time keep one of them only, or put in our signed credential, to reach the pipeline.
    keep = st.sampled_from([None, None, None, "url", "credential", "image", "ours"])

    def check(tally: Tally, example: tuple[Any, str | None]) -> None:
        case, kept = example
        if kept is not None and isinstance(case.body, dict):
            email = case.body.get("email")
            extra = {"email": email} if isinstance(email, str) and len(email) <= 320 else {}
            if kept == "ours":
                case.body = {**extra, "credential": own.credential}
            elif kept in case.body:
                case.body = {**extra, kept: case.body[kept]}
            elif kept == "credential":  # the generated object itself as the credential
                case.body = {**extra, "credential": case.body}
            case.media_type = "application/json"
        response = tally.run(
            case.body,
            lambda: case.call_and_validate(excluded_checks=[checks.positive_data_acceptance]),
        )
        _no_server_error(tally, response.status_code, response.text)
        tally.outcome(f"{kept or 'as generated'}: {response.status_code}")

    tally = fuzz("verify_api_schema", st.tuples(cases, keep), check)
    assert tally.examples > 0


# --------------------------------------------------------------------------------------------
# Hostile JSON
# --------------------------------------------------------------------------------------------


def _vc_jwt() -> str:
    """A VC-JWT signed with a did:key (the credential of ``did_key_credential``)."""
    key = Ed25519PrivateKey.generate()
    credential = did_key_credential(key)
    credential.pop("proof")
    did = multikey.did_key(key.public_key())
    method = multikey.did_key_verification_method(key.public_key())
    claims = {"vc": credential, "iss": did, "jti": credential["id"], "nbf": 1704067200}
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": method, "typ": "JWT"})


def _bodies(bases: list[dict[str, Any]], token: str) -> st.SearchStrategy[tuple[str, bytes]]:
    """(form, request body) pairs: the hostile credential as an object, as a string, or the
    whole body's bytes damaged, or a damaged VC-JWT; sometimes with an e-mail to match or a
    receipt asked for."""

    @st.composite
    def body(draw: Any) -> tuple[str, bytes]:
        document = draw(st.sampled_from(bases).flatmap(hostile_credential))
        form = draw(st.sampled_from(["object", "string", "text", "jws", "bytes"]))
        fields: dict[str, Any] = {"credential": document}
        if form == "string":
            fields["credential"] = dumps(document)
        elif form == "text":  # any text at all, lone surrogates and controls included
            fields["credential"] = draw(st.one_of(ODD_TEXT, ODD_TEXT.map(lambda t: "{" + t)))
        elif form == "jws":
            fields["credential"] = draw(hostile_jws(token))
        if draw(st.booleans()):
            fields["email"] = draw(
                st.one_of(st.just("learner@example.com"), ODD_TEXT, st.just(Raw("1")))
            )
        if draw(st.integers(0, 9)) == 9:
            fields["receipt"] = True
        data = dumps(fields).encode("utf-8", "surrogatepass")
        if form == "bytes":
            data = draw(mutated(data))
        return form, data

    return body()


def test_verify_api_hostile_json(own: Award) -> None:
    bases = [own.credential, did_key_credential(), OB2_ASSERTION]
    client = _client()

    def check(tally: Tally, example: tuple[str, bytes]) -> None:
        form, data = example
        tally.outcome(form)
        response = tally.run(
            data,
            lambda: client.post("/api/v1/verify", data, content_type="application/json"),
        )
        _report(tally, response, len(data))

    tally = fuzz("verify_api_hostile_json", _bodies(bases, _vc_jwt()), check)
    assert tally.examples > 0


# --------------------------------------------------------------------------------------------
# One byte changed
# --------------------------------------------------------------------------------------------


def _canonical(credential: dict[str, Any]) -> bytes:
    return json.dumps(
        credential, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def _verdict(client: Client, text: bytes, tally: Tally | None = None) -> str:
    """The verdict on ``text``: pasted into the API when it is UTF-8, else uploaded as a
    ``.json`` file on the page."""
    try:
        pasted = text.decode("utf-8")
    except UnicodeDecodeError:
        response = client.post("/verify", {"file": _upload(text, "credential.json")})
        if tally is not None:
            _no_server_error(
                tally,
                response.status_code,
                response.content.decode(),
                getattr(response, "exc_info", None),
            )
        page = response.content.decode()
        marker = 'data-verdict="'
        start = page.find(marker)
        return page[start + len(marker) : page.find('"', start + len(marker))] if start >= 0 else ""
    response = client.post(
        "/api/v1/verify", {"credential": pasted}, content_type="application/json"
    )
    if tally is not None:
        _report(tally, response)
    return str(response.json().get("verdict", ""))


def _upload(data: bytes, name: str) -> io.BytesIO:
    """A file for the test client's multipart body (it sends the base name only)."""
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def test_verify_single_byte_mutations(own: Award) -> None:
    client = _client()
    bases = [_canonical(own.credential), _canonical(did_key_credential())]
    for base in bases:  # the unchanged texts verify, so a refusal below is the mutation's
        assert _verdict(client, base) == "valid"
    flips = st.tuples(st.integers(0, len(bases) - 1), st.integers(0, 10**6), st.integers(1, 255))

    def check(tally: Tally, flip: tuple[int, int, int]) -> None:
        base = bases[flip[0]]
        where = flip[1] % len(base)
        text = base[:where] + bytes([base[where] ^ flip[2]]) + base[where + 1 :]
        verdict = tally.run(
            (flip[0], where, text[max(where - 20, 0) : where + 20]),
            lambda: _verdict(client, text, tally),
        )
        assert verdict != "valid", f"one byte changed at {where} still verifies: {tally.current}"
        tally.outcome(f"rejected: {verdict or 'form error'}")

    tally = fuzz("verify_single_byte_mutations", flips, check)
    rejected = sum(count for key, count in tally.outcomes.items() if key.startswith("rejected"))
    print(f"[fuzz]   mutations rejected {rejected}/{tally.examples}")  # noqa: T201 - S-30 figure
    assert rejected == tally.examples > 0


# --------------------------------------------------------------------------------------------
# The page: files, pasted text, links
# --------------------------------------------------------------------------------------------


def _page_requests(own: Award) -> st.SearchStrategy[tuple[str, Any]]:
    text = own.credential_json
    png = baking.bake_png(png_bytes(32, 32), text)
    svg = baking.bake_svg(SVG, text)
    links = [
        own.credential["id"],
        own.credential["id"] + ".json",
        own.credential["issuer"]["id"],
        own.credential["credentialStatus"]["statusListCredential"],
        own.credential["credentialSubject"]["achievement"]["id"],
        "http://127.0.0.1:8000/.well-known/did.json",
    ]
    names = st.sampled_from(["badge.png", "badge.svg", "badge.json", "", "../../x.png", "徽章.PNG"])
    files = st.one_of(
        png_mutated(png),
        mutated(png),
        svg_mutated(svg),
        mutated(text.encode()),
        st.binary(max_size=256),
        st.just(base64.b64encode(png)),
    )
    link_texts = st.sampled_from(links).flatmap(
        lambda link: mutated(link.encode()).map(lambda b: b.decode("utf-8", "replace"))
    )
    return st.one_of(
        st.tuples(st.just("file"), st.tuples(files, names)),
        st.tuples(
            st.just("text"),
            st.one_of(
                st.text(max_size=200),
                mutated(text.encode()),
                hostile_credential(own.credential).map(dumps),  # escapes XML/UTF-8 cannot hold
            ),
        ),
        st.tuples(st.just("url"), st.one_of(link_texts, st.text(max_size=100))),
        st.tuples(st.just("get"), link_texts),
    )


def test_verify_page_uploads(own: Award) -> None:
    client = _client()

    def send(kind: str, value: Any, email: str, htmx: bool) -> Any:
        headers = {"HX-Request": "true"} if htmx else {}
        if kind == "get":
            return client.get("/verify", {"url": value, "email": email}, headers=headers)
        if kind == "file":
            data, name = value
            form = {"file": _upload(data, name), "email": email}
            return client.post("/verify", form, headers=headers)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        return client.post("/verify", {kind: value, "email": email}, headers=headers)

    def check(tally: Tally, example: tuple[tuple[str, Any], str, bool]) -> None:
        (kind, value), email, htmx = example
        tally.outcome(kind)
        response = tally.run(value, lambda: send(kind, value, email, htmx))
        body = response.content.decode("utf-8", "replace")
        _no_server_error(tally, response.status_code, body, response.exc_info)
        assert response.status_code in (200, 400, 422), response.status_code

    emails = st.one_of(
        st.just(""),
        st.sampled_from(["Learner@Example.com", "李华@例子.中国", "S1234567", " "]),
        ODD_TEXT.map(lambda text: text.encode("utf-8", "replace").decode("utf-8")),
    )
    requests = st.tuples(_page_requests(own), emails, st.booleans())
    tally = fuzz("verify_page_uploads", requests, check)
    assert tally.examples > 0
