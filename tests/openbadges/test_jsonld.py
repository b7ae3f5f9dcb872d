"""The pyld pitfalls of research §9 / DESIGN.md §5, one test each."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pyld.nquads
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyld import jsonld as pyld_jsonld

from openbadges import jsonld
from tests.openbadges.helpers import make_credential, vector

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


# ---- offline contexts ----------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Make every socket connection attempt fail loudly and record it."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_it_canonicalizes_a_credential_without_any_network_access(no_network: list[Any]) -> None:
    jsonld.canonicalize(make_credential())
    assert no_network == []


def test_it_refuses_a_context_that_is_not_bundled_without_fetching_it(
    no_network: list[Any],
) -> None:
    document = {"@context": [VC_V2, "https://example.com/evil-context.jsonld"], "name": "x"}
    with pytest.raises(jsonld.UnknownContextError):
        jsonld.canonicalize(document)
    assert no_network == []


def test_pylds_default_loader_is_offline_too(no_network: list[Any]) -> None:
    # Any pyld call in the process, even one that forgets our loader, cannot fetch a URL.
    with pytest.raises(pyld_jsonld.JsonLdError):
        pyld_jsonld.expand({"@context": "https://example.com/ctx.jsonld", "a": 1})
    assert no_network == []


def test_every_bundled_context_matches_its_pinned_sha256() -> None:
    for url in jsonld.bundled_context_urls():
        assert isinstance(jsonld.load_context(url), dict)
    manifest = json.loads(jsonld.MANIFEST_PATH.read_text(encoding="utf-8"))["contexts"]
    for entry in manifest.values():
        raw = (jsonld.CONTEXTS_DIR / entry["file"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == entry["sha256"]


def test_it_detects_a_tampered_context_file(tmp_path: Path) -> None:
    tampered = tmp_path / "contexts"
    shutil.copytree(jsonld.CONTEXTS_DIR, tampered)
    ob_file = tampered / "purl.imsglobal.org_spec_ob_v3p0_context-3.0.3.json"
    original = ob_file.read_bytes()
    # Re-map one term to an attacker's IRI: the JSON stays valid, the meaning changes.
    forged = original.replace(b"vocab.html#achievementType", b"evil.example#achievementType", 1)
    assert forged != original
    ob_file.write_bytes(forged)
    with pytest.raises(jsonld.ContextIntegrityError):
        jsonld.load_context(
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json", contexts_dir=tampered
        )


# ---- RDFC-1.0 escaping -------------------------------------------------------------------


def test_it_escapes_control_characters_as_rdfc_1_0_requires() -> None:
    raw = 'a\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f\x7f"\\z é中🎓'
    expected = 'a\\u0000\\u0001\\u0007\\b\\t\\n\\u000B\\f\\r\\u001B\\u001F\\u007F\\"\\\\z é中🎓'
    assert jsonld.escape_literal(raw) == expected


def test_canonical_nquads_of_a_credential_use_rdfc_escapes() -> None:
    credential = make_credential(narrative="line1\x0bline2\x08\x0c\x01")
    nquads = jsonld.canonicalize(credential)
    assert '"line1\\u000Bline2\\b\\f\\u0001"' in nquads
    assert "\x0b" not in nquads and "\x01" not in nquads


def test_pyld_nquads_escape_is_patched() -> None:
    assert pyld.nquads.escape is jsonld.escape_literal
    assert pyld.nquads.escape("\x01") == "\\u0001"


@given(st.text())
def test_unescape_inverts_escape(value: str) -> None:
    assert jsonld.unescape_literal(jsonld.escape_literal(value)) == value


# ---- safe mode -----------------------------------------------------------------------------


def test_safe_mode_rejects_an_undefined_term() -> None:
    credential = make_credential()
    credential["credentialSubject"]["favouriteColour"] = "blue"
    with pytest.raises(jsonld.SafeModeError, match="favouriteColour"):
        jsonld.canonicalize(credential)


def test_safe_mode_rejects_an_undefined_type() -> None:
    credential = make_credential()
    credential["type"].append("VerifiableDiploma")
    with pytest.raises(jsonld.SafeModeError, match="relative @type"):
        jsonld.canonicalize(credential)


def test_safe_mode_rejects_a_relative_id() -> None:
    credential = make_credential()
    credential["id"] = "credentials/42"
    with pytest.raises(jsonld.SafeModeError, match="relative @id"):
        jsonld.canonicalize(credential)


def test_safe_mode_rejects_a_relative_iri_value() -> None:
    credential = make_credential()
    credential["credentialSubject"]["achievement"]["image"]["id"] = "media/badge.png"
    with pytest.raises(jsonld.SafeModeError, match="relative @id"):
        jsonld.canonicalize(credential)


def test_plain_pyld_would_have_silently_dropped_the_term() -> None:
    # The reason safe mode exists: pyld alone hashes the document as if the term were absent.
    credential = make_credential()
    tampered = json.loads(json.dumps(credential))
    tampered["credentialSubject"]["favouriteColour"] = "blue"
    options = {"algorithm": "URDNA2015", "format": "application/n-quads"}
    assert pyld_jsonld.normalize(credential, options) == pyld_jsonld.normalize(tampered, options)


def test_it_still_accepts_the_1edtech_vector() -> None:
    assert jsonld.canonicalize(vector()["credential"]).count("\n") == 16


# ---- work limit ------------------------------------------------------------------------------


def poison_graph(size: int) -> dict[str, Any]:
    """A clique of indistinguishable blank nodes: exponential for naive RDFC-1.0."""
    nodes: list[dict[str, Any]] = [{"@id": f"_:b{i}"} for i in range(size)]
    for i, node in enumerate(nodes):
        node["http://example.com/p"] = [{"@id": f"_:b{j}"} for j in range(size) if j != i]
    return {"@graph": nodes}


def test_it_stops_canonicalizing_a_poison_graph() -> None:
    with pytest.raises(jsonld.CanonicalizationLimitError):
        jsonld.canonicalize(poison_graph(10))


def test_the_work_limit_is_a_budget_not_a_ban_on_blank_nodes() -> None:
    # A small clique canonicalizes when the budget allows it, and fails under the default.
    dataset = jsonld.to_rdf(poison_graph(4))
    canonical = jsonld.canonicalize_dataset(dataset, work_factor=4)
    assert canonical.count("\n") == 12
    with pytest.raises(jsonld.CanonicalizationLimitError):
        jsonld.canonicalize_dataset(jsonld.to_rdf(poison_graph(4)))


def test_identical_evidence_without_ids_stays_within_the_default_budget() -> None:
    # Two indistinguishable blank nodes need N-degree hashing, but only a little.
    credential = make_credential()
    credential["evidence"] = [
        {"type": ["Evidence"], "narrative": "same"},
        {"type": ["Evidence"], "narrative": "same"},
    ]
    assert "_:c14n1" in jsonld.canonicalize(credential)


def test_an_embedded_context_cannot_import_into_the_shared_bundled_context() -> None:
    # pyld merges an @import target into the loaded document itself: with the bundle shared
    # by the whole process, one request could redefine terms for every later verification.
    url = "https://www.w3.org/ns/credentials/v2"
    before = json.dumps(jsonld.load_context(url), sort_keys=True)
    document = {
        "@context": [{"@import": url, "@version": 1.1, "validUntil": "https://example.com/x"}],
        "@id": "https://example.com/1",
        "validUntil": "2020-01-01T00:00:00Z",
    }
    with pytest.raises(jsonld.SafeModeError, match="@import"):
        jsonld.canonicalize(document)
    assert json.dumps(jsonld.load_context(url), sort_keys=True) == before
