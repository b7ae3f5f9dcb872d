"""The processed-context cache must never change a canonical form (DESIGN.md §10)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld as pyld_jsonld

from openbadges import _pyldcache, jsonld, ob3
from tests.openbadges.helpers import make_achievement, make_credential, vector

text = st.text(min_size=1, max_size=16)


def plain_pyld(document: dict[str, Any]) -> str:
    """Canonical N-Quads from unpatched pyld context processing (bundled loader only)."""
    with _pyldcache.disabled():
        nquads: str = pyld_jsonld.normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": jsonld.document_loader,
            },
        )
    return nquads


credentials = st.builds(
    lambda name, narrative, tags, alignments, evidence, status, language: make_credential(
        achievement=make_achievement(
            name=name, tags=tuple(tags), alignments=tuple(alignments), in_language=language
        ),
        narrative=narrative,
        evidence=tuple(evidence),
        credential_status=status,
    ),
    name=text,
    narrative=st.none() | text,
    tags=st.lists(text, max_size=3),
    alignments=st.lists(
        st.builds(ob3.Alignment, target_name=text, target_url=st.just("https://x.example/c")),
        max_size=2,
    ),
    evidence=st.lists(st.builds(ob3.Evidence, narrative=text), max_size=2),
    status=st.none() | st.builds(ob3.StatusEntry, st.just("https://x.example/s/1"), st.integers(0)),
    language=st.sampled_from([None, "en", "zh-Hans"]),
)


@settings(max_examples=60, deadline=None)
@given(credentials)
def test_cached_canonicalization_equals_plain_pyld_byte_for_byte(
    credential: dict[str, Any],
) -> None:
    assert jsonld.canonicalize(credential) == plain_pyld(credential)


def test_cached_canonicalization_equals_plain_pyld_on_the_1edtech_vector() -> None:
    assert jsonld.canonicalize(vector()["credential"]) == plain_pyld(vector()["credential"])


def test_the_cache_serves_repeated_context_processing() -> None:
    jsonld.canonicalize(make_credential())
    before = _pyldcache.stats()
    jsonld.canonicalize(make_credential())
    after = _pyldcache.stats()
    assert after["hits"] > before["hits"]
    assert after["misses"] == before["misses"]


def test_a_document_embedded_context_object_is_not_cached_by_identity() -> None:
    # Mutating a caller's own context object between calls must change the result.
    local = {"ex": "https://example.com/a#"}
    document = {"@context": [local], "@id": "https://example.com/1", "ex:p": "v"}
    first = jsonld.canonicalize(document)
    local["ex"] = "https://example.com/b#"
    assert jsonld.canonicalize(document) != first
