"""JSON-LD to RDF for documents of a shape already seen, without running JSON-LD again.

Why (DESIGN.md §10): an issuer signs thousands of credentials of one shape — the same keys,
types, numbers and nesting; only strings differ (ids, names, hashes, dates). Expanding and
converting each one with pyld costs ~75 % of a signature. Here pyld converts the *shape* once
and the result is reused with the strings put back.

How:

1. **Skeleton.** Every string leaf of the document becomes a unique marker ``xmk:<n>``;
   values that steer JSON-LD processing stay as they are: ``@context``, ``type``/``@type``,
   every other keyword or keyword alias (``@language``, ``@direction``, ``@index`` …), the
   values of terms typed ``@vocab`` (``proofPurpose``: ``assertionMethod`` is a term), and
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
   triples are the union of both, so duplicate triples are dropped. The filled quads go to
   RDFC-1.0 as N-Quads term strings (:mod:`openbadges.rdfc`); pyld's dictionaries are built
   only when blank nodes share a first-degree hash and pyld's algorithm has to decide.

Only documents whose ``@context`` is bundled URLs, with no ``@context`` below the top, are
templated. Signing uses this (:func:`openbadges.dataintegrity.sign`), for the document and
for the proof configuration (one shape for every signature); verification never does, so any
difference would make our own credentials fail our verifier and the Node one.
``tests/openbadges/test_rdftemplate.py`` compares the canonical N-Quads of both paths with
pyld's own byte for byte over generated credentials and proof configurations, awkward strings
included. About 430 lines: the skeleton, the template and its two fills (pyld's dataset form
and term strings) have to agree on every rule above.
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

from openbadges import jsonld, rdfc

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
_state = {"enabled": True, "proof_configs": True}


@dataclass(frozen=True, slots=True)
class _Template:
    # (graph name, subject, predicate, object) with each term as
    # (kind, value, marker index or -1, ((key, value), …) of a literal's datatype/language).
    quads: tuple[tuple[str, tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]], ...]
    iri_markers: frozenset[int]
    #: The same quads as canonical N-Quads term strings (openbadges.rdfc), for the fill:
    #: (graph, subject, subject marker, predicate, object, object marker, literal suffix,
    #: object extras). A marked term is ``<leaf>``, or for a literal ``"escaped leaf"`` and
    #: its suffix (``^^<datatype>``, ``@lang`` or nothing); an unmarked one is the string.
    terms: tuple[tuple[str, str, int, str, str, int, str | None, tuple[Any, ...]], ...]
    #: Blank-node graph names (they count as blank nodes in the caps).
    blank_graphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    #: Every key of every object in every bundled context: a superset of the terms and
    #: prefixes that any active context built from them can define.
    terms: frozenset[str]
    #: Terms that some bundled context maps to a keyword (``type`` → ``@type`` …).
    keyword_aliases: frozenset[str]
    #: Terms that some bundled context types ``@vocab`` (``proofPurpose``): their strings
    #: are expanded as terms (``assertionMethod`` → ``https://w3id.org/security#…``), so
    #: they are kept in the skeleton like ``type`` values.
    vocab_valued: frozenset[str]


@functools.cache
def _vocabulary() -> _Vocabulary:
    """What the bundled contexts can define, read once per process."""
    terms: set[str] = set()
    aliases: set[str] = set()
    vocab_valued: set[str] = set()
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
                    if isinstance(value, dict) and value.get("@type") == "@vocab":
                        vocab_valued.add(key)
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return _Vocabulary(
        terms=frozenset(terms),
        keyword_aliases=frozenset(aliases),
        vocab_valued=frozenset(vocab_valued),
    )


@functools.lru_cache(maxsize=4096)
def _structural_key(key: str) -> bool:
    """True when the strings under ``key`` steer JSON-LD processing (kept in the skeleton)."""
    if key in _MARKED_KEYWORDS:
        return False
    vocabulary = _vocabulary()
    return (
        key.startswith("@") or key in vocabulary.keyword_aliases or key in vocabulary.vocab_valued
    )


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
    try:
        terms = tuple(_terms(quad) for quad in quads)
    except _NotTemplated:
        return None
    return _Template(
        quads=tuple(quads),
        iri_markers=frozenset(iri),
        terms=terms,
        blank_graphs=tuple(graph for graph in dataset if graph.startswith("_:")),
    )


def _literal_suffix(extras: tuple[Any, ...]) -> str:
    """What follows the quoted value of a literal with these datatype/language entries."""
    found = dict(extras)
    datatype, language = found.pop("datatype", None), found.pop("language", None)
    if found or not isinstance(datatype, str) or not isinstance(language, str | None):
        raise _NotTemplated  # not a term pyld's serializer writes plainly: leave it to pyld
    return rdfc.literal("", datatype, language)[2:]


def _node_term(term: tuple[Any, ...]) -> str:
    kind, value, _index, _extras = term
    if not isinstance(value, str):
        raise _NotTemplated
    if kind == "IRI":
        return "<" + value + ">"
    if kind == "blank node" and value.startswith("_:") and not value.startswith("_:c14n"):
        return value
    raise _NotTemplated


def _terms(
    quad: tuple[str, tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]],
) -> tuple[str, str, int, str, str, int, str | None, tuple[Any, ...]]:
    graph, subject, predicate, obj = quad
    if graph == "@default":
        graph_term = ""
    elif graph.startswith("_:"):
        graph_term = _node_term(("blank node", graph, -1, ()))
    else:
        graph_term = "<" + graph + ">"
    if predicate[0] != "IRI":
        raise _NotTemplated
    suffix = _literal_suffix(obj[3]) if obj[0] == "literal" else None
    if obj[0] == "literal":
        object_term = rdfc.literal(obj[1], dict(obj[3])["datatype"], dict(obj[3]).get("language"))
    else:
        object_term = _node_term(obj)
    return (
        graph_term,
        _node_term(subject),
        subject[2],
        "<" + predicate[1] + ">",
        object_term,
        obj[2],
        suffix,
        obj[3],
    )


@functools.lru_cache(maxsize=65_536)
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


def _fill_terms(template: _Template, leaves: list[str]) -> list[rdfc.Quad]:
    """:func:`_fill` as canonical N-Quads term strings, duplicates dropped the same way."""
    escaped: dict[int, str] = {}
    quads: list[rdfc.Quad] = []
    seen: set[tuple[Any, ...]] = set()
    for graph, subject, s_index, predicate, obj, o_index, suffix, extras in template.terms:
        if s_index >= 0:
            subject = "<" + leaves[s_index] + ">"
        if o_index >= 0:
            if suffix is None:
                obj = "<" + leaves[o_index] + ">"
            else:
                text = escaped.get(o_index)
                if text is None:
                    text = escaped[o_index] = rdfc.escape_literal(leaves[o_index])
                obj = '"' + text + '"' + suffix
        identity = (graph, subject, predicate, obj, extras)
        if identity in seen:
            continue
        seen.add(identity)
        quads.append((subject, predicate, obj, graph))
    return quads


def _cacheable_context(document: JsonObject) -> bool:
    context = document.get("@context")
    urls = context if isinstance(context, list) else [context]
    bundled = jsonld.bundled_context_urls()
    return all(isinstance(url, str) and url in bundled for url in urls)


def _template_for(
    document: JsonObject, *, proof_config: bool = False
) -> tuple[_Template, list[str]] | None:
    """The template of ``document``'s shape and its strings, or ``None`` for plain pyld."""
    enabled = _state["proof_configs"] if proof_config else _state["enabled"]
    if not enabled or not isinstance(document, dict) or not _cacheable_context(document):
        return None
    leaves: list[str] = []
    try:
        if any(MARKER_PREFIX in k for k in document):
            raise _NotTemplated
        skeleton = {
            k: (v if k == "@context" else _skeleton(v, leaves, _structural_key(k)))
            for k, v in document.items()
        }
    except _NotTemplated:
        return None
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
        return None
    if known:
        with _lock:
            _stats["hits"] += 1
    return template, leaves


def to_rdf(document: JsonObject) -> Dataset:
    """The RDF dataset of ``document``, as :func:`openbadges.jsonld.to_rdf` would return it
    (blank node labels aside), from a cached template when its shape was seen before."""
    found = _template_for(document)
    if found is None:
        return jsonld.to_rdf(document)
    return _fill(*found)


def canonicalize(
    document: JsonObject,
    *,
    work_factor: int = jsonld.DEFAULT_WORK_FACTOR,
    proof_config: bool = False,
) -> str:
    """RDFC-1.0 canonical N-Quads of ``document``: :func:`openbadges.jsonld.canonicalize`
    with the JSON-LD to RDF step served from a template (same output, byte for byte).

    A filled template goes to RDFC-1.0 as N-Quads term strings (:mod:`openbadges.rdfc`)
    without pyld's dictionaries, which are built only if pyld's algorithm must run.
    ``proof_config`` marks a Data Integrity proof configuration: its shape is the same for
    every signature, so :func:`disabled` can keep its template."""
    found = _template_for(document, proof_config=proof_config)
    if found is None:
        return jsonld.canonicalize(document, work_factor=work_factor)
    template, leaves = found
    return jsonld.canonicalize_quads(
        _fill_terms(template, leaves),
        lambda: _fill(template, leaves),
        work_factor=work_factor,
        graph_names=list(template.blank_graphs),
    )


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
def disabled(*, keep_proof_configs: bool = False) -> Iterator[None]:
    """Run a block with plain pyld for every document (benchmarks, comparisons).

    With ``keep_proof_configs`` proof configurations still come from their template: what
    signing a credential of a shape not seen before costs."""
    previous = dict(_state)
    _state["enabled"] = False
    _state["proof_configs"] = keep_proof_configs
    try:
        yield
    finally:
        _state.update(previous)
