"""Issue 18 item 1, tried as the outside test did: through the anonymous verify API.

- Poison graphs (W3C rdf-canon ``test074c``, the outside report's 6,000 identical blank nodes,
  ours) are refused as "too complex to check", never valid.
- A credential with 1,000 endorsements whose keys sit on a tarpit host, and one with as many
  endorsements as the cap allows, are answered within the whole verification's deadline.

``pytest tests/security -s`` prints the worst times. Verdicts are asserted, never timings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from pytest_django.fixtures import Settings

from openbadges import ob3
from tests.verification import helpers
from tests.verification.conftest import allow
from tests.verification.servers import FakeWeb, Route

pytestmark = pytest.mark.django_db

KEY = Ed25519PrivateKey.generate()
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VOCAB = "https://example.org/vocab#"


@pytest.fixture
def web(settings: Settings) -> Iterator[FakeWeb]:
    """A loopback server standing in for other hosts (``allow`` maps a host name to it)."""
    server = FakeWeb()
    settings.INSIGNIA_FETCH_ALLOWLIST = {}
    yield server
    server.close()


def _with_graph(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """A signed did:key credential whose evidence, added after signing as an attacker would,
    holds the blank-node graph ``nodes``: the verifier must canonicalize it to find out."""
    credential = helpers.did_key_credential(KEY)
    credential["evidence"] = [{"type": ["Evidence"], f"{VOCAB}n": nodes}]
    return credential


def _rdf_canon_test074() -> dict[str, Any]:
    """W3C rdf-canon ``test074c`` ("poison - Clique Graph (negative test)"): its 100 quads,
    a 10-node clique, carried as a credential's evidence (fixtures/rdf-canon/README.md)."""
    edges: dict[str, list[dict[str, str]]] = {}
    for line in (FIXTURES / "rdf-canon" / "test074-in.nq").read_text().splitlines():
        subject, _predicate, obj, _dot = line.split()
        edges.setdefault(subject, []).append({"id": obj})
    return _with_graph([{"id": s, f"{VOCAB}p": targets} for s, targets in edges.items()])


def _clique(size: int) -> dict[str, Any]:
    ids = [f"_:b{i}" for i in range(size)]
    return _with_graph([{"id": i, f"{VOCAB}p": [{"id": j} for j in ids]} for i in ids])


def _identical_blank_nodes(count: int = 6000) -> dict[str, Any]:
    """The outside report's 467 KB credential: signed, then 6,000 identical evidence items."""
    credential = helpers.did_key_credential(KEY)
    item = {"type": ["Evidence"], "name": "Portfolio", "narrative": "The same evidence."}
    credential["evidence"] = [dict(item) for _ in range(count)]
    return credential


def _poison_endorsement() -> dict[str, Any]:
    # Added after signing (our own signer refuses to canonicalize it), as an attacker would.
    credential = helpers.did_key_credential(KEY)
    credential["endorsement"] = [_clique(10)]
    return credential


def _post(client: Client, document: dict[str, Any]) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    response = client.post(
        "/api/v1/verify", {"credential": json.dumps(document)}, content_type="application/json"
    )
    took = time.perf_counter() - started
    assert response.status_code == 200, response.content[:300]
    return response.json(), took


def test_poison_graphs_are_refused_as_too_complex(client: Client) -> None:
    poisons = {
        "rdf-canon test074c (10-node clique)": _rdf_canon_test074(),
        "6,000 identical blank nodes (outside report)": _identical_blank_nodes(),
        "20-node clique": _clique(20),
        "a clique inside an endorsement": _poison_endorsement(),
    }
    # A warm process, as a server's is: the first request also loads contexts and templates.
    assert _post(client, helpers.did_key_credential(KEY))[0]["verdict"] == "valid"
    times: dict[str, float] = {}
    for name, document in poisons.items():
        answer, took = _post(client, document)
        assert answer["verdict"] == "too_complex", (name, answer["verdict"])
        assert answer["valid"] is False
        times[name] = took
    # The next honest request is served normally.
    answer, _ = _post(client, helpers.did_key_credential(KEY))
    assert answer["verdict"] == "valid"

    worst = max(times, key=times.__getitem__)
    for name, took in times.items():
        print(f"poison graph '{name}': refused in {took:.2f} s")
    print(
        f"poison graphs: {len(times)} of {len(times)} refused as too complex; worst "
        f"{times[worst]:.2f} s to refusal ({worst}; target ≤ 1 s); the next request valid"
    )


def _tarpit(handler: BaseHTTPRequestHandler) -> None:
    """One byte a second, for at most a minute: the fetcher must give up first."""
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(60):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(1)
    except OSError:
        return


def _endorsed_on_a_tarpit(web: FakeWeb, settings: Settings, count: int) -> dict[str, Any]:
    """``count`` endorsements, each signed by a did:web key that only the tarpit serves."""
    key = Ed25519PrivateKey.generate()
    endorsements = []
    for i in range(count):
        did = f"did:web:tarpit.example:e:{i}"
        web.add(f"https://tarpit.example/e/{i}/did.json", Route(stream=_tarpit))
        endorsement = {
            "@context": list(ob3.CREDENTIAL_CONTEXT),
            "type": ["VerifiableCredential", "EndorsementCredential"],
            "issuer": {"id": did, "type": ["Profile"]},
            "validFrom": "2024-01-01T00:00:00Z",
            "name": "Endorsed",
            "credentialSubject": {"id": "https://example.edu/", "type": ["EndorsementSubject"]},
        }
        endorsements.append(helpers.sign(endorsement, key, f"{did}#key-1"))
    allow(settings, web, "tarpit.example")
    if count <= settings.INSIGNIA_VERIFY_MAX_ENDORSEMENTS:
        return helpers.did_key_credential(KEY, endorsement=endorsements)
    # Too big to sign within our own limits: added after signing, as an attacker would.
    credential = helpers.did_key_credential(KEY)
    credential["endorsement"] = endorsements
    return credential


def test_endorsements_on_a_tarpit_are_answered_within_the_deadline(
    client: Client,
    web: FakeWeb,
    settings: Settings,
) -> None:
    deadline = settings.INSIGNIA_VERIFY_DEADLINE
    cap = settings.INSIGNIA_VERIFY_MAX_ENDORSEMENTS
    cases = {
        "1,000 endorsements": _endorsed_on_a_tarpit(web, settings, 1000),
        f"{cap} endorsements (the cap)": _endorsed_on_a_tarpit(web, settings, cap),
    }
    verdicts: dict[str, tuple[str, float]] = {}
    for name, document in cases.items():
        answer, took = _post(client, document)
        assert answer["valid"] is False, name
        verdicts[name] = (answer["verdict"], took)

    # Over the cap: refused before any fetch; at the cap: every fetch waits on the tarpit
    # until the one deadline for the whole verification ends it.
    assert verdicts["1,000 endorsements"][0] == "too_complex"
    assert verdicts[f"{cap} endorsements (the cap)"][0] == "too_slow"
    hosts = {host for host, _ in web.requests}
    assert hosts <= {"tarpit.example"}
    for name, (verdict, took) in verdicts.items():
        print(f"tarpit endorsements, {name}: '{verdict}' in {took:.1f} s")
    worst = max(took for _, took in verdicts.values())
    print(
        f"endorsements on a tarpit host: worst {worst:.1f} s for the whole verification "
        f"(deadline {deadline:.0f} s); {len(web.requests)} fetches reached the tarpit"
    )
