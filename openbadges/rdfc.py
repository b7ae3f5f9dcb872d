"""RDFC-1.0 for the common case, on N-Quads strings instead of pyld's term dictionaries.

Why (DESIGN.md §10): after JSON-LD expansion, pyld spends as much again building its node map,
turning it into one dictionary per term, and in ``URDNA2015.main`` re-reading them: a copy of
every blank-node quad for the first-degree hash, a ``serialize_nquad`` call per quad and per
hash, in-place relabelling. A credential's blank nodes almost always have distinct
first-degree hashes (each is a different kind of object: the subject, the criteria, an
alignment…), and then RDFC-1.0 (§4.4 steps 3-4) needs no N-degree hashing at all: canonical
labels are issued in the order of the sorted hashes.

What:

* :func:`canonical_nquads` takes a dataset as *term strings* — every term already in its
  canonical N-Quads form (``<iri>``, ``_:label``, ``"escaped"^^<datatype>``) — hashes each
  blank node's quads with that node as ``_:a`` and every other as ``_:z`` (§4.6) and, when
  every hash is unique, returns the canonical N-Quads document. When two blank nodes share a
  hash it returns ``None`` and the caller runs pyld's whole algorithm (:mod:`openbadges.jsonld`,
  with its work budget).
* The term strings come from pyld's dataset (:func:`from_pyld_dataset`), from its node map
  (:func:`graph_terms`), or straight from the expanded document when the node map would have
  nothing to merge (:func:`expanded_terms`), each written exactly as
  ``pyld.nquads.serialize_nquad`` writes it. Anything unusual (a blank-node predicate, a label
  already in the canonical ``_:c14n`` namespace, a list or ``@graph`` for the direct converter,
  a term pyld would stumble on) is left to pyld, which then raises its own errors.

The result is byte for byte what pyld gives: ``tests/openbadges/test_rdfc.py`` compares the two
over generated datasets and JSON-LD documents (symmetric and ambiguous graphs included, which
take pyld's path) and the W3C rdf-canon suite in ``tests/fixtures/rdf-canon``.

About 470 lines: the canonicalizer and its three converters share the term-string form and
must stay in step with one another.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any, Final

#: One quad as canonical N-Quads term strings: subject, predicate, object, graph name
#: (``""`` for the default graph). Blank nodes are the only terms that start with ``_``.
Quad = tuple[str, str, str, str]

XSD_STRING: Final = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
#: The canonical issuer's prefix (RDFC-1.0 §4.5). pyld does not relabel an input blank node
#: that already starts with it, so such inputs are left to pyld to keep its exact output.
CANONICAL_PREFIX: Final = "_:c14n"

# --------------------------------------------------------------------------------------------
# RDFC-1.0 canonical N-Quads escaping (RDFC-1.0 §4.3 "canonical n-quads", RDF 1.2 N-Quads §4)
# --------------------------------------------------------------------------------------------

_ECHAR: Final = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_NEEDS_ESCAPE: Final = re.compile('[\\\\"\x00-\x1f\x7f]')
_UNESCAPE: Final = re.compile(r'\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|([tbnrf"\'\\]))')
_UNECHAR: Final = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    return _ECHAR.get(char) or f"\\u{ord(char):04X}"


def escape_literal(value: str) -> str:
    """Escape a literal for canonical N-Quads exactly as RDFC-1.0 requires.

    ``\\b \\t \\n \\f \\r " \\\\`` use their short escapes; the other characters U+0000-U+001F
    and U+007F become ``\\uXXXX`` with upper-case hex; everything else is emitted as is.
    """
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return _NEEDS_ESCAPE.sub(_escape_char, value)


def _unescape_char(match: re.Match[str]) -> str:
    short, long_, echar = match.groups()
    if short or long_:
        return chr(int(short or long_, 16))
    return "\\" if echar == "\\" else _UNECHAR[echar]


def unescape_literal(value: str) -> str:
    """Inverse of :func:`escape_literal` (also accepts ``\\UXXXXXXXX``), for parsed N-Quads."""
    return _UNESCAPE.sub(_unescape_char, value)


def literal(value: str, datatype: str, language: str | None = None) -> str:
    """A literal term as ``pyld.nquads.serialize_nquad`` writes it (after our escaping patch):
    no datatype for ``xsd:string``, ``@lang`` for ``rdf:langString`` (nothing if the language
    is empty), ``^^<datatype>`` otherwise."""
    quoted = '"' + escape_literal(value) + '"'
    if datatype == RDF_LANGSTRING:
        return quoted + "@" + language if language else quoted
    if datatype == XSD_STRING:
        return quoted
    return quoted + "^^<" + datatype + ">"


# --------------------------------------------------------------------------------------------
# pyld's dataset -> term strings
# --------------------------------------------------------------------------------------------


def _node(term: Any) -> str | None:
    """A subject or object that is an IRI or a blank node, or ``None`` if unusual."""
    if not isinstance(term, dict):
        return None
    kind, value = term.get("type"), term.get("value")
    if not isinstance(value, str):
        return None
    if kind == "IRI":
        return "<" + value + ">"
    if kind == "blank node" and value.startswith("_:") and not value.startswith(CANONICAL_PREFIX):
        return value
    return None


def _object(term: Any) -> str | None:
    if isinstance(term, dict) and term.get("type") == "literal":
        value, datatype = term.get("value"), term.get("datatype")
        language = term.get("language")
        if not (isinstance(value, str) and isinstance(datatype, str)):
            return None
        if language is not None and not isinstance(language, str):
            return None
        return literal(value, datatype, language)
    return _node(term)


def from_pyld_dataset(dataset: dict[str, list[dict[str, Any]]]) -> list[Quad] | None:
    """pyld's dataset (``{graph name: [{"subject", "predicate", "object"}, …]}``) as term
    strings, in pyld's order, or ``None`` when any part is not plain RDF (leave it to pyld)."""
    quads: list[Quad] = []
    append = quads.append
    for graph_name, triples in dataset.items():
        if graph_name == "@default":
            graph = ""
        elif not isinstance(graph_name, str):
            return None
        elif graph_name.startswith("_:"):
            if graph_name.startswith(CANONICAL_PREFIX):
                return None
            graph = graph_name
        else:
            graph = "<" + graph_name + ">"
        for triple in triples:
            if not isinstance(triple, dict) or triple.keys() != {"subject", "predicate", "object"}:
                return None
            predicate = triple["predicate"]
            if not isinstance(predicate, dict) or predicate.get("type") != "IRI":
                return None
            p_value = predicate.get("value")
            subject = _node(triple["subject"])
            obj = _object(triple["object"])
            if subject is None or obj is None or not isinstance(p_value, str):
                return None
            append((subject, "<" + p_value + ">", obj, graph))
    return quads


# --------------------------------------------------------------------------------------------
# RDFC-1.0 without the N-degree step
# --------------------------------------------------------------------------------------------


def _line(quad: Quad) -> str:
    subject, predicate, obj, graph = quad
    if graph:
        return f"{subject} {predicate} {obj} {graph} .\n"
    return f"{subject} {predicate} {obj} .\n"


def blank_node_quads(quads: Sequence[Quad]) -> dict[str, list[Quad]]:
    """Blank node -> the quads it occurs in, once per occurrence (RDFC-1.0 §4.4 step 2;
    pyld lists a quad twice when a node is both its subject and its object, and the
    first-degree hash then covers that line twice, so this does the same)."""
    info: dict[str, list[Quad]] = {}
    for quad in quads:
        subject, _predicate, obj, graph = quad
        if subject[0] == "_":
            info.setdefault(subject, []).append(quad)
        if obj[0] == "_":
            info.setdefault(obj, []).append(quad)
        if graph and graph[0] == "_":
            info.setdefault(graph, []).append(quad)
    return info


def first_degree_hash(node: str, quads: Sequence[Quad]) -> str:
    """Hash First Degree Quads (RDFC-1.0 §4.6): the node as ``_:a``, other blank nodes
    ``_:z``, lines sorted, SHA-256 in hex."""
    lines = []
    for subject, predicate, obj, graph in quads:
        if subject[0] == "_":
            subject = "_:a" if subject == node else "_:z"
        if obj[0] == "_":
            obj = "_:a" if obj == node else "_:z"
        if graph:
            if graph[0] == "_":
                graph = "_:a" if graph == node else "_:z"
            lines.append(f"{subject} {predicate} {obj} {graph} .\n")
        else:
            lines.append(f"{subject} {predicate} {obj} .\n")
    lines.sort()
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def canonical_nquads(
    quads: Sequence[Quad], info: dict[str, list[Quad]] | None = None
) -> str | None:
    """The RDFC-1.0 canonical N-Quads of ``quads`` when no two blank nodes share a
    first-degree hash (then §4.4 issues labels in hash order and stops), else ``None``.

    ``info`` is :func:`blank_node_quads` of ``quads`` when the caller already has it.
    """
    if info is None:
        info = blank_node_quads(quads)
    if not info:
        return "".join(sorted(map(_line, quads)))
    try:
        by_hash = {first_degree_hash(node, node_quads): node for node, node_quads in info.items()}
    except UnicodeEncodeError:
        return None  # a lone surrogate: pyld raises its own error
    if len(by_hash) != len(info):
        return None  # shared hashes: the N-degree step decides, pyld runs it
    labels = {by_hash[h]: f"{CANONICAL_PREFIX}{n}" for n, h in enumerate(sorted(by_hash))}
    lines = []
    for subject, predicate, obj, graph in quads:
        if subject[0] == "_":
            subject = labels[subject]
        if obj[0] == "_":
            obj = labels[obj]
        if graph:
            if graph[0] == "_":
                graph = labels[graph]
            lines.append(f"{subject} {predicate} {obj} {graph} .\n")
        else:
            lines.append(f"{subject} {predicate} {obj} .\n")
    lines.sort()
    return "".join(lines)


# --------------------------------------------------------------------------------------------
# pyld's node map -> term strings
# --------------------------------------------------------------------------------------------

RDF_TYPE: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_DOUBLE: Final = "http://www.w3.org/2001/XMLSchema#double"
# pyld's absolute-IRI test (jsonld._is_absolute_iri), which its to-RDF step applies.
_ABSOLUTE_IRI: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")


class NotPlain(Exception):
    """A node map entry this converter leaves to pyld (the caller falls back to it)."""


def graph_terms(
    processor: Any,
    graph: dict[str, dict[str, Any]],
    graph_term: str,
    issuer: Any,
    options: dict[str, Any],
    keywords: frozenset[str],
    out: list[Quad],
) -> None:
    """Append the quads of one node-map graph to ``out``, as ``JsonLdProcessor._graph_to_rdf``
    makes them and :func:`from_pyld_dataset` would write them.

    Node references and string values (plain, typed or language-tagged) are written here;
    anything else (numbers, booleans, ``@json``, lists) goes through pyld's own
    ``_object_to_rdf`` and is converted from its result. Raises :class:`NotPlain` for what
    :func:`from_pyld_dataset` would refuse, so that the caller runs pyld throughout.
    """
    absolute = _ABSOLUTE_IRI.match
    append = out.append
    for node_id, node in sorted(graph.items()):
        if not isinstance(node_id, str) or not absolute(node_id):
            continue  # pyld skips relative subjects (and the null "@nonsense" expands to)
        if node_id.startswith("_:"):
            if node_id.startswith(CANONICAL_PREFIX):
                raise NotPlain
            subject = node_id
        else:
            subject = "<" + node_id + ">"
        for prop, items in sorted(node.items()):
            if prop == "@type":
                prop = RDF_TYPE
            elif prop in keywords:
                continue
            if not absolute(prop) or prop.startswith("_:"):
                continue  # relative or blank-node predicates are skipped (no generalized RDF)
            predicate = "<" + prop + ">"
            for item in items:
                obj = _plain_object(item, absolute)
                if obj is None:
                    triples: list[dict[str, Any]] = []
                    term = processor._object_to_rdf(item, issuer, triples, options)
                    for triple in triples:  # list structure, in pyld's order
                        converted = from_pyld_dataset({"@default": [triple]})
                        if converted is None:
                            raise NotPlain
                        s, p, o, _g = converted[0]
                        append((s, p, o, graph_term))
                    if term is None:
                        continue  # a relative IRI: pyld drops the triple
                    obj = _object(term)
                    if obj is None:
                        raise NotPlain
                elif obj == "":
                    continue  # a relative IRI: pyld drops the triple
                append((subject, predicate, obj, graph_term))


def _plain_object(item: Any, absolute: Any) -> str | None:
    """The object term of a node reference or string value; ``""`` for one pyld drops (a
    relative IRI); ``None`` for anything else (pyld converts it)."""
    if isinstance(item, str):  # an @type value
        node_id = item
    elif isinstance(item, dict):
        if "@value" in item:
            value = item["@value"]
            if not isinstance(value, str) or "@direction" in item:
                return None
            datatype = item.get("@type")
            if datatype == "@json" or datatype == XSD_DOUBLE:
                return None
            if "@language" in item:
                language = item["@language"]
                datatype = datatype or RDF_LANGSTRING
                if not isinstance(language, str):
                    return None
            else:
                language = None
                datatype = datatype or XSD_STRING
            if not isinstance(datatype, str):
                return None
            return literal(value, datatype, language)
        if "@list" in item or "@set" in item:
            return None
        reference = item.get("@id")
        if not isinstance(reference, str):
            return None
        node_id = reference
    else:
        return None
    if node_id.startswith("_:"):
        if node_id.startswith(CANONICAL_PREFIX):
            return None
        return node_id
    return "<" + node_id + ">" if absolute(node_id) else ""


# --------------------------------------------------------------------------------------------
# Expanded JSON-LD -> term strings, without the node map
# --------------------------------------------------------------------------------------------


class _Converter:
    """Expanded JSON-LD (a tree of node objects) straight to quads, as pyld's node map and
    ``_graph_to_rdf`` would produce them, for documents where the node map has nothing to
    merge: every node object with properties has its own ``@id`` (or none), and no
    ``@graph``, ``@reverse``, ``@included`` or ``@list``. A property's values are de-duplicated
    with pyld's own ``compare_values``, as its node map does. Anything else raises
    :class:`NotPlain` and pyld does the whole conversion."""

    def __init__(self, processor: Any, options: dict[str, Any]) -> None:
        self.processor = processor
        self.options = options
        self.compare = processor.compare_values
        self.quads: list[Quad] = []
        self.labels: dict[str, str] = {}  # the document's blank node labels -> ours
        self.count = 0
        self.described: set[str] = set()
        self.absolute = _ABSOLUTE_IRI.match

    def blank(self, label: str | None = None) -> str:
        """A fresh blank node, or the one standing for ``label`` in the document."""
        if label is not None and label in self.labels:
            return self.labels[label]
        fresh = f"_:n{self.count}"
        self.count += 1
        if label is not None:
            self.labels[label] = fresh
        return fresh

    def node(self, node: dict[str, Any]) -> str:
        """Emit the quads of one node object; return its subject term."""
        node_id = node.get("@id")
        if "@id" not in node:
            subject = self.blank()
        elif not isinstance(node_id, str):  # pyld's IRI expansion gave null ("@nonsense")
            raise NotPlain
        elif node_id.startswith("_:"):
            subject = self.blank(node_id)
        elif self.absolute(node_id):
            subject = "<" + node_id + ">"
        else:
            raise NotPlain  # pyld would keep the node but drop its triples: leave it to pyld
        if len(node) > ("@id" in node):
            if subject in self.described:
                raise NotPlain  # two node objects for one node: pyld merges them
            self.described.add(subject)
        append = self.quads.append
        for prop, values in node.items():
            if prop == "@id" or prop == "@index":
                continue
            if not isinstance(values, list):
                raise NotPlain
            if prop == "@type":
                seen_types: set[str] = set()
                for type_iri in values:
                    if not isinstance(type_iri, str):
                        raise NotPlain
                    if type_iri in seen_types:
                        continue  # pyld's node map adds each type once
                    seen_types.add(type_iri)
                    if type_iri.startswith("_:"):
                        append((subject, "<" + RDF_TYPE + ">", self.blank(type_iri), ""))
                    elif self.absolute(type_iri):
                        append((subject, "<" + RDF_TYPE + ">", "<" + type_iri + ">", ""))
                continue
            if prop.startswith(("@", "_:")) or not self.absolute(prop):
                raise NotPlain
            predicate = "<" + prop + ">"
            added: list[Any] = []
            for value in values:
                if not isinstance(value, dict) or "@list" in value or "@set" in value:
                    raise NotPlain
                if "@value" in value:
                    if str(value.get("@type", "")).startswith("_:"):
                        raise NotPlain  # pyld relabels a blank-node datatype
                    stored: Any = value
                    term = self.literal(value)
                else:
                    term = self.node(value)
                    stored = {"@id": term if term.startswith("_:") else value["@id"]}
                if any(self.compare(earlier, stored) for earlier in added):
                    continue  # pyld's node map keeps the first of equal values
                added.append(stored)
                if term:
                    append((subject, predicate, term, ""))
        return subject

    def literal(self, value: dict[str, Any]) -> str:
        term = _plain_object(value, self.absolute)
        if term is not None:
            return term
        triples: list[dict[str, Any]] = []
        converted = _object(self.processor._object_to_rdf(value, None, triples, self.options))
        if converted is None or triples:
            raise NotPlain
        return converted


def expanded_terms(expanded: list[Any], processor: Any, options: dict[str, Any]) -> list[Quad]:
    """The quads of an expanded document (see :class:`_Converter`); raises
    :class:`NotPlain` when the node map would have work to do."""
    converter = _Converter(processor, options)
    for node in expanded:
        if not isinstance(node, dict) or "@value" in node or "@list" in node or "@set" in node:
            raise NotPlain
        converter.node(node)
    return converter.quads
