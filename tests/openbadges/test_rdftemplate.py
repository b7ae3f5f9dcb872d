"""Templated JSON-LD to RDF must give the canonical N-Quads plain pyld gives, byte for byte,
or fall back to pyld (DESIGN.md §10: "checked byte-for-byte against pyld in tests")."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbadges import _pyldcache, dataintegrity, jsonld, ob3, rdftemplate
from tests.openbadges.helpers import (
    FIXTURES,
    NOW,
    VERIFICATION_METHOD,
    make_achievement,
    make_credential,
    make_issuer,
    vector,
    vector_private_key,
)

# Strings that are ordinary text in one place and mean something to JSON-LD in another.
TRICKY = [
    "xmk:0",  # looks like one of the template's own markers
    "xmk:12",
    "xsd:string",  # a prefix the bundled contexts define: expands to XMLSchema#string
    "cred:issuer",
    "schema:name",
    "_:b0",  # a blank node identifier
    "relative/path",
    "",
    "@id",
    "@nonsense",
    "https://x.example/with space",
    "https://badges.example.edu/achievements/5a4c0e52/v/3",  # the same IRI as another node
    "did:web:badges.example.edu:issuers:acme",
    "urn:uuid:3f1c2a44-9b7e-4c1e-8f52-0a6d7c1e2b90",
    "name",  # a term
    "Image",
]
awkward_text = st.one_of(
    st.text(min_size=0, max_size=12),
    st.text(
        alphabet=st.sampled_from('\x00\x01\x08\x0c\x1f\x7f"\\\n\r\t\u2028é学\U0001f393 '),
        max_size=8,
    ),
    st.sampled_from(TRICKY),
)
iris = st.one_of(
    st.sampled_from(TRICKY),
    st.builds(lambda n: f"https://x.example/{n}", st.integers(0, 3)),
    st.builds(lambda t: f"urn:example:{t}", st.text(max_size=6)),
)


def plain(document: dict[str, Any]) -> str | type[Exception]:
    """pyld's own expansion, to-RDF and RDFC-1.0 (safe mode and limits around them)."""
    try:
        with jsonld.pyld_only(), _pyldcache.disabled():
            return jsonld.canonicalize(copy.deepcopy(document))
    except Exception as error:
        return type(error)


def fast(document: dict[str, Any]) -> str | type[Exception]:
    """How verification canonicalizes: no template, openbadges.rdfc where it applies."""
    try:
        return jsonld.canonicalize(copy.deepcopy(document))
    except Exception as error:
        return type(error)


def templated(document: dict[str, Any]) -> str | type[Exception]:
    try:
        return rdftemplate.canonicalize(copy.deepcopy(document))
    except Exception as error:
        return type(error)


def _credential(
    cid: str,
    issuer_id: str,
    achievement_id: str,
    name: str,
    narrative: str | None,
    tags: list[str],
    target: str,
    evidence: list[ob3.Evidence],
    status_url: str,
    email: str,
) -> dict[str, Any]:
    return make_credential(
        id=cid,
        issuer=make_issuer(id=issuer_id, name=name or "x"),
        achievement=make_achievement(
            id=achievement_id,
            name=name or "y",
            tags=tuple(tags),
            alignments=(ob3.Alignment(target_name=name or "z", target_url=target),),
        ),
        narrative=narrative,
        evidence=tuple(evidence),
        credential_status=ob3.StatusEntry(status_url, 7),
        recipient=ob3.Recipient(email, salt="00" * 16),
    )


credentials = st.builds(
    _credential,
    cid=iris,
    issuer_id=iris,
    achievement_id=iris,
    name=awkward_text,
    narrative=st.none() | awkward_text,
    tags=st.lists(awkward_text, max_size=3),
    target=iris,
    evidence=st.lists(
        st.builds(ob3.Evidence, id=st.none() | iris, narrative=st.none() | awkward_text),
        max_size=2,
    ),
    status_url=iris,
    email=st.sampled_from(["ana@example.com", "李华@example.com", "xmk:3@example.com"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials)
def test_a_templated_credential_canonicalizes_exactly_as_pyld_does(
    credential: dict[str, Any],
) -> None:
    # Twice: the first call may build the template, the second certainly fills one.
    expected = plain(credential)
    assert templated(credential) == expected
    assert templated(credential) == expected
    assert fast(credential) == expected


def _strings_replaced(document: Any, replace: Callable[[str], str]) -> Any:
    if isinstance(document, dict):
        return {
            k: v if k in ("@context", "type") else _strings_replaced(v, replace)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [_strings_replaced(v, replace) for v in document]
    return replace(document) if isinstance(document, str) else document


def _corpus() -> Iterator[Path]:
    yield from sorted((FIXTURES / "1edtech-validator" / "ob30").rglob("*.json"))


@pytest.mark.parametrize("path", list(_corpus()), ids=lambda p: p.name)
def test_the_1edtech_corpus_canonicalizes_exactly_as_pyld_does(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        return
    document = {k: v for k, v in document.items() if k != "proof"}
    assert templated(document) == plain(document)
    assert fast(document) == plain(document)
    # The same shape with other strings: served from the template just built, or by pyld.
    other = _strings_replaced(document, lambda s: s + "x" if s.startswith("http") else s + "é")
    assert templated(other) == plain(other)
    assert fast(other) == plain(other)


def test_the_1edtech_vector_is_reproduced_from_a_template() -> None:
    rdftemplate.clear()
    credential = {k: v for k, v in vector()["credential"].items() if k != "proof"}
    rdftemplate.canonicalize(credential)
    assert rdftemplate.canonicalize(credential) == plain(credential)
    assert rdftemplate.stats()["hits"] == 1


def test_credentials_of_one_shape_are_served_from_one_template() -> None:
    rdftemplate.clear()
    for n in range(5):
        credential = make_credential(
            id=f"urn:uuid:00000000-0000-4000-8000-00000000000{n}",
            recipient=ob3.Recipient(f"learner{n}@example.com"),
        )
        assert rdftemplate.canonicalize(credential) == plain(credential)
    assert rdftemplate.stats() == {"hits": 4, "misses": 1, "fallbacks": 0, "size": 1}


def test_an_id_that_a_context_would_expand_goes_through_pyld() -> None:
    # Security v2 defines the prefix "sec": "sec:proof" is not the IRI it looks like.
    def document(node_id: str) -> dict[str, Any]:
        return {
            "@context": "https://w3id.org/security/v2",
            "id": node_id,
            "type": "Ed25519Signature2018",
            "created": "2020-01-01T00:00:00Z",
        }

    rdftemplate.clear()
    rdftemplate.canonicalize(document("https://x.example/proof/1"))
    prefixed = document("sec:proof")
    assert rdftemplate.canonicalize(prefixed) == plain(prefixed)
    assert rdftemplate.canonicalize(prefixed).startswith("<https://w3id.org/security#proof> ")
    assert rdftemplate.stats()["fallbacks"] == 2
    assert rdftemplate.stats()["hits"] == 0


def test_equal_ids_merge_nodes_as_pyld_does() -> None:
    # The evidence has the credential's own id: pyld merges the two nodes into one.
    same = "https://x.example/same"
    credential = make_credential(id=same, evidence=(ob3.Evidence(id=same, name="Report"),))
    other = make_credential(
        id="https://x.example/a", evidence=(ob3.Evidence(id="https://x.example/b", name="R"),)
    )
    rdftemplate.canonicalize(other)  # the template, from distinct ids
    assert rdftemplate.canonicalize(credential) == plain(credential)


def test_a_document_with_an_embedded_context_is_not_templated() -> None:
    document = {
        "@context": [{"ex": "https://example.com/a#"}],
        "@id": "https://example.com/1",
        "ex:p": "v",
    }
    before = rdftemplate.stats()["misses"]
    assert rdftemplate.canonicalize(document) == plain(document)
    assert rdftemplate.stats()["misses"] == before


def test_a_signature_from_a_template_verifies_with_plain_pyld() -> None:
    key = vector_private_key()
    credentials = [
        make_credential(id=f"urn:uuid:00000000-0000-4000-8000-0000000000{n:02d}") for n in range(3)
    ]
    for credential in credentials:
        signed = dataintegrity.sign(
            credential, private_key=key, verification_method=VERIFICATION_METHOD, created=NOW
        )
        assert dataintegrity.verify(signed, public_key=key.public_key())


def test_a_type_that_looks_like_a_template_marker_is_not_mistaken_for_one() -> None:
    rdftemplate.clear()
    document = {
        "@context": "https://w3id.org/security/v2",
        "id": "https://x.example/proof/1",
        "type": "xmk:1",  # an absolute IRI; the marker of the second string would be "xmk:1"
        "nonce": "https://x.example/nonce",
    }
    for _ in range(2):
        assert rdftemplate.canonicalize(document) == plain(document)


proof_configs = st.builds(
    lambda created, method, purpose, suite, context: {
        "type": "DataIntegrityProof",
        "created": created,
        "verificationMethod": method,
        "cryptosuite": suite,
        "proofPurpose": purpose,
        "@context": context,
    },
    created=st.sampled_from(["2026-03-04T05:06:07Z", "2026-03-04T05:06:08Z"]) | awkward_text,
    method=iris,
    purpose=st.sampled_from(
        ["assertionMethod", "authentication", "https://x.example/purpose", "xmk:1", "nonsense"]
    ),
    suite=st.sampled_from(["eddsa-rdfc-2022"]) | awkward_text,
    context=st.sampled_from(
        [
            list(ob3.CREDENTIAL_CONTEXT),
            ["https://www.w3.org/ns/credentials/v2"],
            [
                "https://www.w3.org/2018/credentials/v1",
                "https://w3id.org/security/data-integrity/v2",
            ],
        ]
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proof_configs)
def test_a_templated_proof_configuration_canonicalizes_exactly_as_pyld_does(
    config: dict[str, Any],
) -> None:
    expected = plain(config)
    for _ in range(2):  # the template is built, then filled
        try:
            result: str | type[Exception] = rdftemplate.canonicalize(
                copy.deepcopy(config), proof_config=True
            )
        except Exception as error:
            result = type(error)
        assert result == expected


def test_proof_configurations_keep_their_template_when_documents_do_not() -> None:
    rdftemplate.clear()
    config = {
        "type": "DataIntegrityProof",
        "created": "2026-03-04T05:06:07Z",
        "verificationMethod": VERIFICATION_METHOD,
        "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
        "@context": list(ob3.CREDENTIAL_CONTEXT),
    }
    with rdftemplate.disabled(keep_proof_configs=True):
        for second in range(3):
            other = {**config, "created": f"2026-03-04T05:06:0{second}Z"}
            assert rdftemplate.canonicalize(other, proof_config=True) == plain(other)
        rdftemplate.canonicalize(make_credential())
    assert rdftemplate.stats() == {"hits": 2, "misses": 1, "fallbacks": 0, "size": 1}
