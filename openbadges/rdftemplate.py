"""JSON-LD to RDF for documents of a shape already seen, without running JSON-LD again.

Why (DESIGN.md §10): an issuer signs thousands of credentials of one shape — the same keys,
types, numbers and nesting; only strings differ (ids, names, hashes, dates). Expanding and
converting each one with pyld costs ~75 % of a signature. Here pyld converts the *shape* once
and the result is reused with the strings put back.

How:

1. **Skeleton.** Every string leaf of the document becomes a unique marker ``xmk:<n>``;
   values that steer JSON-LD processing stay as they are: ``@context``, ``type``/``@type``,
   every other keyword or keyword alias (``@language``, ``@direction``, ``@index`` …), and
   every number, boolean and null. The skeleton's JSON is the cache key.
2. **Template.** :func:`openbadges.jsonld.to_rdf` (pyld, offline, safe mode) converts the
   skeleton. The template is kept only if every marker came out whole, at least once, as an
   IRI or a literal value and nowhere else (not in a predicate, a datatype, a language tag or
   inside a longer string — ``@json`` literals, for instance, are never templated).
3. **Fill.** For a new document of that skeleton each marker is replaced by its string. A
   string that lands as an IRI must expand to itself under *any* of the bundled contexts:
   an absolute IRI (pyld's own test), not a blank node, not a keyword, and neither it nor its
   prefix a term of any bundled context. Anything else falls back to plain pyld, which then
   expands it (or raises) as it always does. Equal strings can merge two nodes that the
   skeleton kept apart (pyld's node map merges nodes with one ``@id``); the merged node's
   triples are the union of both, so duplicate triples are dropped.

Only documents whose ``@context`` is bundled URLs, with no ``@context`` below the top, are
templated. Signing uses this (:func:`openbadges.dataintegrity.sign`); verification always
runs plain pyld, so any difference would make our own credentials fail our verifier and the
Node one. ``tests/openbadges/test_rdftemplate.py`` compares the canonical N-Quads of both
paths byte for byte over generated credentials, awkward strings included.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from openbadges import jsonld

JsonObject = dict[str, Any]
Dataset = dict[str, list[dict[str, Any]]]

MARKER_PREFIX: Final = "xmk:"
MAX_TEMPLATES: Final = 512
#: Keys whose string values are kept in the skeleton (they steer expansion); ``id`` and
#: ``@id`` values are markers (they become IRIs), as are ``@value`` values (literals).
_MARKED_KEYWORDS: Final = frozenset({"@id", "@value", "id"})
# pyld's own absolute-IRI test (jsonld._is_absolute_iri), which its to-RDF step applies.
_PYLD_ABSOLUTE: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
_MARKER: Final = re.compile(r"^xmk:(\d+)$")

_lock = threading.Lock()
_templates: OrderedDict[str, _Template | None] = OrderedDict()
_stats = {"hits": 0, "misses": 0, "fallbacks": 0}
_state = {"enabled": True}


@dataclass(frozen=True, slots=True)
class _Template:
    # (graph name, subject, predicate, object) with each term as
    # (kind, value, marker index or -1, ((key, value), …) of a literal's datatype/language).
    quads: tuple[tuple[str, tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]], ...]
    iri_markers: frozenset[int]


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    #: Every key of every object in every bundled context: a superset of the terms and
    #: prefixes that any active context built from them can define.
    terms: frozenset[str]
    #: Terms that some bundled context maps to a keyword (``type`` → ``@type`` …).
    keyword_aliases: frozenset[str]


@functools.cache
def _vocabulary() -> _Vocabulary:
    """What the bundled contexts can define, read once per process."""
    terms: set[str] = set()
    aliases: set[str] = set()
    for url in jsonld.bundled_context_urls():
        stack: list[Any] = [jsonld.load_context(url)]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                terms.update(item)
                for key, value in item.items():
                    target = value.get("@id") if isinstance(value, dict) else value
                    if isinstance(target, str) and target.startswith("@"):
                        aliases.add(key)
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return _Vocabulary(terms=frozenset(terms), keyword_aliases=frozenset(aliases))


def _structural_key(key: str) -> bool:
    if key in _MARKED_KEYWORDS:
        return False
    return key.startswith("@") or key in _vocabulary().keyword_aliases


def _skeleton(value: Any, leaves: list[str], structural: bool) -> Any:
    if isinstance(value, str):
        if structural:
            if MARKER_PREFIX in value:  # would be taken for a marker in the template
                raise _NotTemplated
            return value
        leaves.append(value)
        return f"{MARKER_PREFIX}{len(leaves) - 1}"
    if isinstance(value, dict):
        if "@context" in value:
            raise _NotTemplated
        if any(MARKER_PREFIX in k for k in value):
            raise _NotTemplated
        return {k: _skeleton(v, leaves, _structural_key(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_skeleton(v, leaves, structural) for v in value]
    return value  # numbers, booleans, null: part of the shape


class _NotTemplated(Exception):
    pass


def _term(component: dict[str, Any], markers: set[int], iri: set[int]) -> tuple[Any, ...]:
    kind, value = component["type"], component["value"]
    # A literal's datatype and language tag, exactly as pyld gave them.
    extras = tuple((k, v) for k, v in component.items() if k not in ("type", "value"))
    if any(isinstance(v, str) and MARKER_PREFIX in v for _k, v in extras):
        raise _NotTemplated
    index = -1
    if MARKER_PREFIX in value:
        found = _MARKER.match(value)
        if found is None:  # a marker inside a longer string (e.g. an @json literal)
            raise _NotTemplated
        index = int(found.group(1))
        markers.add(index)
        if kind != "literal":
            iri.add(index)
    return (kind, value, index, extras)


def _build(skeleton: JsonObject, leaf_count: int) -> _Template | None:
    try:
        dataset = jsonld.to_rdf(skeleton)
    except (jsonld.SafeModeError, jsonld.CanonicalizationError, jsonld.ContextError):
        return None  # the real document goes through pyld and gets its own error
    markers: set[int] = set()
    iri: set[int] = set()
    quads = []
    try:
        for graph, triples in dataset.items():
            if MARKER_PREFIX in graph:
                raise _NotTemplated
            for triple in triples:
                predicate = triple["predicate"]
                if MARKER_PREFIX in predicate["value"]:
                    raise _NotTemplated
                quads.append(
                    (
                        graph,
                        _term(triple["subject"], markers, iri),
                        (predicate["type"], predicate["value"], -1, ()),
                        _term(triple["object"], markers, iri),
                    )
                )
    except _NotTemplated:
        return None
    if markers != set(range(leaf_count)):
        return None  # a string was dropped or used twice over: not a plain substitution
    return _Template(quads=tuple(quads), iri_markers=frozenset(iri))


def _expands_to_itself(value: str) -> bool:
    """True if ``value`` is an IRI that JSON-LD IRI expansion leaves unchanged whatever the
    active context built from the bundled contexts (JSON-LD 1.1 API §5.2 IRI Expansion)."""
    if value.startswith("@") or _PYLD_ABSOLUTE.match(value) is None:
        return False
    terms = _vocabulary().terms
    if value in terms:
        return False
    prefix, _colon, suffix = value.partition(":")
    if prefix == "_":
        return False
    return suffix.startswith("//") or prefix not in terms


def _component(term: tuple[Any, ...], leaves: list[str]) -> dict[str, Any]:
    kind, value, index, extras = term
    return {"type": kind, "value": leaves[index] if index >= 0 else value, **dict(extras)}


def _fill(template: _Template, leaves: list[str]) -> Dataset:
    dataset: Dataset = {}
    seen: set[tuple[Any, ...]] = set()
    for graph, subject, predicate, obj in template.quads:
        s_value = leaves[subject[2]] if subject[2] >= 0 else subject[1]
        o_value = leaves[obj[2]] if obj[2] >= 0 else obj[1]
        identity = (graph, subject[0], s_value, predicate[1], obj[0], o_value, obj[3])
        if identity in seen:
            continue
        seen.add(identity)
        dataset.setdefault(graph, []).append(
            {
                "subject": _component(subject, leaves),
                "predicate": {"type": predicate[0], "value": predicate[1]},
                "object": _component(obj, leaves),
            }
        )
    return dataset


def _cacheable_context(document: JsonObject) -> bool:
    context = document.get("@context")
    urls = context if isinstance(context, list) else [context]
    bundled = jsonld.bundled_context_urls()
    return all(isinstance(url, str) and url in bundled for url in urls)


def to_rdf(document: JsonObject) -> Dataset:
    """The RDF dataset of ``document``, as :func:`openbadges.jsonld.to_rdf` would return it
    (blank node labels aside), from a cached template when its shape was seen before."""
    if not _state["enabled"] or not isinstance(document, dict) or not _cacheable_context(document):
        return jsonld.to_rdf(document)
    leaves: list[str] = []
    try:
        if any(MARKER_PREFIX in k for k in document):
            raise _NotTemplated
        skeleton = {
            k: (v if k == "@context" else _skeleton(v, leaves, _structural_key(k)))
            for k, v in document.items()
        }
    except _NotTemplated:
        return jsonld.to_rdf(document)
    key = json.dumps(skeleton, ensure_ascii=False, separators=(",", ":"))
    with _lock:
        known = key in _templates
        template = _templates.get(key)
        if known:
            _templates.move_to_end(key)
    if not known:
        template = _build(skeleton, len(leaves))
        with _lock:
            _stats["misses"] += 1
            _templates[key] = template
            while len(_templates) > MAX_TEMPLATES:
                _templates.popitem(last=False)
    if template is None or not all(_expands_to_itself(leaves[i]) for i in template.iri_markers):
        with _lock:
            _stats["fallbacks"] += 1
        return jsonld.to_rdf(document)
    if known:
        with _lock:
            _stats["hits"] += 1
    return _fill(template, leaves)


def canonicalize(document: JsonObject, *, work_factor: int = jsonld.DEFAULT_WORK_FACTOR) -> str:
    """RDFC-1.0 canonical N-Quads of ``document``: :func:`openbadges.jsonld.canonicalize`
    with the JSON-LD to RDF step served from a template (same output, byte for byte)."""
    return jsonld.canonicalize_dataset(to_rdf(document), work_factor=work_factor)


def stats() -> dict[str, int]:
    """Template hits, misses (shapes converted by pyld) and fallbacks, and the cache size."""
    with _lock:
        return {**_stats, "size": len(_templates)}


def clear() -> None:
    """Forget every template (tests)."""
    with _lock:
        _templates.clear()
        for name in _stats:
            _stats[name] = 0


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run a block with plain pyld for every document (benchmarks, comparisons)."""
    previous = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = previous
