"""S-01, S-02, S-03: the safe fetcher under SSRF, redirects, rebinding, tarpits and bombs.

research/security-reliability.md §4. The only network is loopback servers these tests start;
names are answered by a stub resolver. Each test prints its figure.
"""

from __future__ import annotations

import gzip
import json
import time
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytest_django.fixtures import Settings

from openbadges import jsonld, multikey, ob3
from tests.verification import helpers
from tests.verification.conftest import Tripwire, allow
from tests.verification.servers import FakeWeb, Route, endless, tarpit
from verification import fetcher, pipeline

pytestmark = pytest.mark.django_db

STUB_DNS = {
    "localhost": ["127.0.0.1"],
    "localtest.me": ["127.0.0.1"],
    "metadata.google.internal": ["169.254.169.254"],
    "internal.example": ["10.1.2.3"],
    "cgnat.example": ["100.100.100.200"],
    "v6only.example": ["::1"],
    "mapped.example": ["::ffff:169.254.169.254"],
    "mixed.example": ["93.184.216.34", "127.0.0.1"],
    "example.org": ["93.184.216.34"],
    "good.example": ["93.184.216.34"],
}

URL_FORMS = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://0/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:7f00:1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[fd00:ec2::254]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://100.100.100.200/",
    "http://100.64.0.1/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://198.18.0.1/",
    "http://192.0.0.1/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[::127.0.0.1]/",
    "http://[ff02::1]/",
    "http://localhost/",
    "http://localtest.me/",
    "http://good.example@127.0.0.1/",
    "http://127.0.0.1:8080/",
    "https://example.org:22/",
    "https://example.org:6379/",
    "http://internal.example/",
    "http://cgnat.example/",
    "http://v6only.example/",
    "http://mapped.example/",
    "http://mixed.example/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_x",
    "ftp://example.org/",
    "data:application/json,{}",
    "javascript:alert(1)",
    "dict://127.0.0.1:11211/",
]


@pytest.fixture
def stub_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(host: str, port: int) -> list[str]:
        if host in STUB_DNS:
            return STUB_DNS[host]
        import socket

        # Numeric forms only (decimal, hex, short IPv4, IPv6): no DNS query leaves the machine.
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        return [str(info[4][0]) for info in infos]

    monkeypatch.setattr(fetcher, "resolve_host", resolve)


def _did_web(url: str) -> str:
    netloc = urlsplit(url).netloc.rsplit("@", 1)[-1]
    return "did:web:" + quote(netloc, safe="")


KEY = Ed25519PrivateKey.generate()
EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"


def _signed_with(**changes: Any) -> str:
    """A did:key credential, signed *with* the change, so its proof passes and the entry
    point behind the change is really reached. A URL that JSON-LD cannot even express as an
    IRI (``data:…,{}``) cannot be signed: then the credential goes unsigned (and unfetched)."""
    did = multikey.did_key(KEY.public_key())
    method = multikey.did_key_verification_method(KEY.public_key())
    try:
        return json.dumps(helpers.sign(helpers.unsigned(did, **changes), KEY, method))
    except (jsonld.SafeModeError, jsonld.CanonicalizationError):
        return json.dumps(helpers.unsigned(did, **changes))


def _entry_points(url: str) -> dict[str, pipeline.VerifyRequest]:
    entries = {"pasted URL": pipeline.VerifyRequest(url=url)}
    entries["issuer / https controller document"] = pipeline.VerifyRequest(
        text=json.dumps(helpers.sign(helpers.unsigned(url), KEY, url + "#key-1"))
    )
    did = _did_web(url)
    entries["verificationMethod / did:web"] = pipeline.VerifyRequest(
        text=json.dumps(helpers.sign(helpers.unsigned(did), KEY, did + "#key-1"))
    )
    entries["1EdTechRevocationList"] = pipeline.VerifyRequest(
        text=_signed_with(
            credentialStatus={"id": url, "type": "1EdTechRevocationList"},
            **{"@context": [*ob3.CREDENTIAL_CONTEXT, EXTENSIONS]},
        )
    )
    entries["statusListCredential"] = pipeline.VerifyRequest(
        text=_signed_with(
            credentialStatus={
                "id": "urn:uuid:7d2f3e1a-0000-4000-8000-000000000001",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "7",
                "statusListCredential": url,
            }
        )
    )
    endorsement = helpers.sign(helpers.unsigned(url), KEY, url + "#key-1")
    entries["endorsement issuer"] = pipeline.VerifyRequest(
        text=json.dumps(helpers.did_key_credential(KEY) | {"endorsement": [endorsement]})
    )
    return entries


def test_no_url_form_reaches_a_blocked_address_from_any_entry_point(
    stub_dns: None, tripwire: Tripwire, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []
    real_fetch = fetcher.fetch

    def counting(url: str, **kwargs: Any) -> fetcher.Response:
        attempts.append(url)
        return real_fetch(url, **kwargs)

    monkeypatch.setattr(fetcher, "fetch", counting)
    verdicts = set()
    tried = 0
    entry_names: set[str] = set()
    for url in URL_FORMS:
        for name, request in _entry_points(url).items():
            before = len(attempts)
            report = pipeline.verify(request)
            verdicts.add(str(report.verdict))
            entry_names.add(name)
            tried += 1
            if urlsplit(url).scheme in ("http", "https") and name != "pasted URL":
                assert len(attempts) > before, (name, url, report.as_json())
    # did:web of a non-http form (ftp://example.org/) names a public host: that one may be
    # tried (the tripwire refuses it); nothing in a blocked range may be.
    blocked = [c for c in tripwire.connections if fetcher.is_blocked_address(c[0])]
    print(  # noqa: T201 - the issue asks for the figures
        f"\nS-01 SSRF matrix: {len(URL_FORMS)} URL forms x {len(entry_names)} entry points = "
        f"{tried} verifications, {len(attempts)} fetch attempts, "
        f"{len(blocked)} connections to blocked ranges"
    )
    assert len(URL_FORMS) >= 40
    assert blocked == []
    assert "valid" not in verdicts


def test_every_refused_address_is_refused_before_connect(
    stub_dns: None, tripwire: Tripwire
) -> None:
    for url in URL_FORMS:
        with pytest.raises(fetcher.FetchError):
            fetcher.fetch(url)
    assert tripwire.connections == []


def test_redirects_are_revalidated_and_capped(
    web: FakeWeb, settings: Settings, stub_dns: None, tripwire: Tripwire
) -> None:
    allow(settings, web, "public.example")
    targets = [
        f"http://127.0.0.1:{web.port}/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/",
        "http://[::1]/",
        "http://10.0.0.1/",
        "file:///etc/passwd",
        "http://metadata.google.internal/",
        "http://mixed.example/",
        "http://good.example@127.0.0.1/",
        "http://2130706433/",
    ]
    for index, target in enumerate(targets):
        web.add(f"http://public.example/r{index}", Route(302, headers={"Location": target}))
        web.add(f"http://public.example/r{index}b", Route(307, headers={"Location": f"/r{index}"}))
    for hop in range(6):
        web.add(
            f"http://public.example/loop{hop}", Route(302, headers={"Location": f"/loop{hop + 1}"})
        )
    web.json("http://public.example/loop6", {"ok": True})
    web.json(f"http://127.0.0.1:{web.port}/secret", {"secret": True})
    scenarios = 0
    for index in range(len(targets)):
        for suffix in ("", "b"):
            scenarios += 1
            with pytest.raises(fetcher.FetchError):
                fetcher.fetch(f"https://public.example/r{index}{suffix}")
    scenarios += 1
    with pytest.raises(fetcher.TooManyRedirects):
        fetcher.fetch("https://public.example/loop0")
    assert ("127.0.0.1", "/secret") not in web.requests
    assert all(
        address == "127.0.0.1" and port == web.port for address, port in tripwire.connections
    )
    print(  # noqa: T201 - the issue asks for the figures
        f"\nS-02 redirects: {scenarios} scenarios, 0 connections to non-validated addresses, "
        f"{len(tripwire.connections)} connections all to the allow-listed test host"
    )


def test_dns_rebinding_cannot_redirect_the_connection(
    monkeypatch: pytest.MonkeyPatch, tripwire: Tripwire
) -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])
    monkeypatch.setattr(fetcher, "resolve_host", lambda host, port: next(answers))
    with pytest.raises(fetcher.FetchError):
        fetcher.fetch("https://rebind.example/")
    # One resolution, one connection, to the address that was validated.
    assert tripwire.connections == [("93.184.216.34", 443)]
    print(  # noqa: T201 - the issue asks for the figures
        "\nS-02 rebinding: connected only to the validated address 93.184.216.34"
    )


def test_a_tarpit_is_cut_off_at_the_deadline(web: FakeWeb, settings: Settings) -> None:
    allow(settings, web, "slow.example")
    settings.INSIGNIA_FETCH_DEADLINE = 1.0
    web.add("https://slow.example/", Route(stream=tarpit(5)))
    started = time.monotonic()
    with pytest.raises(fetcher.FetchTimeout):
        fetcher.fetch("https://slow.example/")
    print(  # noqa: T201 - the issue asks for the figures
        f"\nS-03 tarpit: cut off after {time.monotonic() - started:.2f} s (deadline 1 s)"
    )


def test_endless_and_oversized_bodies_are_cut_off_at_the_cap(
    web: FakeWeb, settings: Settings
) -> None:
    allow(settings, web, "big.example")
    web.add("https://big.example/endless", Route(stream=endless()))
    web.add(
        "https://big.example/declared", Route(body=b"{}", headers={"Content-Length": str(10**9)})
    )
    with pytest.raises(fetcher.TooLarge):
        fetcher.fetch("https://big.example/endless")
    bomb = gzip.compress(b"[" + b"0," * (8 * 1024 * 1024) + b"0]")
    web.add("https://big.example/bomb", Route(body=bomb, headers={"Content-Encoding": "gzip"}))
    response = fetcher.fetch("https://big.example/bomb")
    assert response.body == bomb  # never decompressed
    report = pipeline.verify(pipeline.VerifyRequest(url="https://big.example/bomb"))
    assert str(report.verdict) == "bad_input"
    print(  # noqa: T201 - the issue asks for the figures
        f"\nS-03 caps: endless body stopped at {fetcher.JSON_MAX_BYTES} bytes; gzip bomb kept "
        f"compressed ({len(bomb)} bytes, expands to 16 MiB) and rejected"
    )


def test_a_refusal_does_not_tell_what_an_internal_name_resolves_to(
    stub_dns: None, tripwire: Tripwire
) -> None:
    """Issue 18: the error named the private address, so anyone could map internal DNS."""
    with pytest.raises(fetcher.BlockedURL) as refused:
        fetcher.fetch("https://internal.example/credential.json")
    assert "blocked address" in str(refused.value)
    assert "10.1.2.3" not in str(refused.value)
    assert tripwire.connections == []
