"""RDFC-1.0 canonicalization is bounded for any graph shape.

Poison graphs (many identical blank nodes, a blank-node clique, deep nesting) are refused with
:class:`CanonicalizationLimitError`; real credentials still canonicalize exactly as pyld does.
No test asserts a timing: each asserts what is refused and what is not.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld
from pyld.canon import URDNA2015

from openbadges import jsonld
from tests.openbadges.helpers import make_credential, vector

EVIDENCE = {"type": ["Evidence"], "name": "Portfolio", "narrative": "The same evidence."}


def identical_evidence(count: int) -> dict[str, Any]:
    """The outside test's shape: one credential with ``count`` identical blank nodes."""
    credential = make_credential()
    credential.pop("proof", None)
    credential["evidence"] = [dict(EVIDENCE) for _ in range(count)]
    return credential


def clique(size: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"@id": f"_:b{i}"} for i in range(size)]
    for i, node in enumerate(nodes):
        node["http://example.com/p"] = [{"@id": f"_:b{j}"} for j in range(size) if j != i]
    return {"@graph": nodes}


def chain(depth: int) -> dict[str, Any]:
    """Nested objects with the same content at every level: a chain of look-alike blank nodes."""
    node: dict[str, Any] = {"http://example.com/v": "x"}
    for _ in range(depth):
        node = {"http://example.com/v": "x", "http://example.com/p": node}
    return node


def test_the_6000_identical_blank_nodes_of_the_report_are_refused_before_expansion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    credential = identical_evidence(6000)
    assert 400_000 < len(json.dumps(credential)) < 600_000  # the report's 467 KB case
    expanded: list[object] = []

    def expand(*args: object) -> list[object]:
        expanded.append(args)
        return []

    monkeypatch.setattr(pyld_jsonld.JsonLdProcessor, "expand", expand)
    with pytest.raises(jsonld.CanonicalizationLimitError, match="objects without an id"):
        jsonld.canonicalize(credential)
    # Counted in the JSON itself: pyld's expansion (seconds for this input) never ran.
    assert expanded == []


def test_objects_with_ids_and_context_objects_do_not_count_as_blank_nodes() -> None:
    credential = identical_evidence(0)
    credential["evidence"] = [
        {**EVIDENCE, "id": f"https://example.edu/e/{n}"} for n in range(jsonld.MAX_BLANK_NODES)
    ]
    credential["@context"] = [
        *credential["@context"],
        {f"t{n}": {"@id": f"https://example.org/{n}"} for n in range(10)},
    ]
    jsonld._check_depth(credential)  # no error: every evidence item names itself


def test_identical_blank_nodes_under_the_node_cap_are_refused_by_the_work_budget() -> None:
    # 4,900 of them stay under MAX_BLANK_NODES; pyld's quadratic node map is priced first.
    assert jsonld.MAX_BLANK_NODES > 4_900
    with pytest.raises(jsonld.CanonicalizationLimitError, match="comparisons"):
        jsonld.canonicalize(identical_evidence(4_900))


def test_many_values_of_one_node_split_over_objects_are_counted_together() -> None:
    # Nodes with one @id are merged by the node map, so splitting the values does not help.
    parts = [
        {"@id": "urn:x:same", "http://example.com/p": [f"v{i}-{j}" for j in range(100)]}
        for i in range(30)
    ]
    with pytest.raises(jsonld.CanonicalizationLimitError, match="comparisons"):
        jsonld.canonicalize({"@graph": parts})


def test_a_few_identical_blank_nodes_are_fine() -> None:
    assert jsonld.canonicalize(identical_evidence(20)).count("_:c14n") > 20


def test_a_clique_is_refused_even_with_a_generous_work_factor() -> None:
    # work_factor only widens the N-degree call count; the work units still bound the run.
    dataset = jsonld.to_rdf(clique(8))
    with pytest.raises(jsonld.CanonicalizationLimitError, match="units"):
        jsonld.canonicalize_dataset(dataset, work_factor=50)


@pytest.mark.parametrize("depth", [10, 40])
def test_a_deep_chain_of_look_alike_blank_nodes_is_refused(depth: int) -> None:
    with pytest.raises(jsonld.CanonicalizationLimitError):
        jsonld.canonicalize(chain(depth))


def test_nesting_deeper_than_the_cap_is_refused_not_a_recursion_error() -> None:
    document: dict[str, Any] = {"http://example.com/v": "x"}
    for _ in range(5_000):
        document = {"http://example.com/p": document}
    with pytest.raises(jsonld.CanonicalizationLimitError, match="nested"):
        jsonld.canonicalize(document)


def test_the_quad_cap_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonld, "MAX_QUADS", 10)
    with pytest.raises(jsonld.CanonicalizationLimitError, match="quads"):
        jsonld.canonicalize(make_credential())
    # The dataset is checked too (signing fills datasets from templates, without expansion).
    dataset: dict[str, list[dict[str, Any]]] = {
        "@default": [{"subject": {}, "predicate": {}, "object": {}}] * 11
    }
    with pytest.raises(jsonld.CanonicalizationLimitError, match="quads"):
        jsonld.canonicalize_dataset(dataset)


def test_a_passed_deadline_stops_canonicalization() -> None:
    with (
        jsonld.time_limit(time.monotonic() - 1),
        pytest.raises(jsonld.CanonicalizationTimeout),
    ):
        jsonld.canonicalize(make_credential())
    with jsonld.time_limit(None):
        assert jsonld.canonicalize(make_credential())


def test_the_deadline_is_checked_inside_the_hashing_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    # A deadline that passes after the first checks: the N-degree loop itself must notice.
    dataset = jsonld.to_rdf(clique(7))
    clock = iter(range(1_000_000))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)))
    with jsonld.time_limit(5.0), pytest.raises(jsonld.CanonicalizationTimeout):
        jsonld.canonicalize_dataset(dataset, work_factor=50)


def test_the_1edtech_vector_and_our_credentials_stay_well_within_the_limits() -> None:
    assert jsonld.canonicalize(vector()["credential"]).count("\n") == 16
    assert jsonld.canonicalize(make_credential())


@pytest.mark.parametrize(
    "document",
    [
        clique(4),
        chain(3),
        {
            "@graph": [
                {"@id": f"_:r{i}", "http://example.com/p": {"@id": f"_:r{(i + 1) % 6}"}}
                for i in range(6)
            ]
        },
        identical_evidence(3),
    ],
    ids=["clique-4", "chain-3", "ring-6", "evidence-3"],
)
def test_the_budgeted_hashing_gives_pyld_s_exact_output(document: dict[str, Any]) -> None:
    dataset = jsonld.to_rdf(document)
    expected = URDNA2015().main(copy.deepcopy(dataset), {"format": "application/n-quads"})
    assert jsonld.canonicalize_dataset(copy.deepcopy(dataset), work_factor=8) == expected
