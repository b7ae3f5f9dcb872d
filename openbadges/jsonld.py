"""Offline, safe-mode JSON-LD canonicalization (RDFC-1.0) on top of pyld.

Everything a Data Integrity proof hashes goes through :func:`canonicalize`. It differs from a
plain ``pyld.jsonld.normalize`` call in four ways, each one a known interop pitfall
(research/open-badges-spec.md §7.2 and §9, DESIGN.md §5):

1. **Offline contexts.** The document loader serves only the contexts bundled in
   ``openbadges/contexts/`` and refuses every other URL; no context is ever fetched over the
   network. Every bundled file is checked against the sha256 pinned in ``manifest.json``.
2. **Safe mode.** pyld silently drops undefined terms and leaves relative IRIs that are then
   skipped by to-RDF, so a Python issuer could sign something the Digital Bazaar / DCC verifiers
   (which run jsonld.js in safe mode) reject. We raise :class:`SafeModeError` instead.
3. **RDFC-1.0 escaping.** pyld 3.3 escapes only ``\\ \\t \\n \\r "`` in literals; RDFC-1.0
   canonical N-Quads also escape ``\\b \\f`` and every other control character as ``\\uXXXX``.
4. **Work limits** (RDFC-1.0 §4.1 "resource exhaustion"). Crafted "poison" graphs make
   canonicalization super-linear, so every run is bounded whatever the graph's shape:
   nesting depth, quads and blank nodes are capped; pyld's node map (quadratic in the values
   of one property: 6,000 identical blank nodes cost ~N² comparisons) is priced before it
   runs; the N-degree hashing step counts its real work (calls, permutations, issuer copies)
   against a fixed budget and against rdf-canonize's ``maxWorkFactor`` bound; and a caller
   may set a wall-clock deadline (:func:`time_limit`) checked between phases and inside the
   hashing loops. Every limit raises :class:`CanonicalizationLimitError`.

The algorithm name pyld accepts is ``URDNA2015``; its output is identical to RDFC-1.0.

Speed (DESIGN.md §10): expansion is pyld's (with the caches of :mod:`openbadges._pyldcache`,
and a JSON copy of the input instead of ``copy.deepcopy``); to-RDF and RDFC-1.0 run on N-Quads
term strings (:mod:`openbadges.rdfc`) whenever no two blank nodes share a first-degree hash,
and go to pyld's node map, ``_graph_to_rdf`` and ``URDNA2015`` otherwise, with the same caps
and budgets. The output is pyld's byte for byte; :func:`pyld_only` runs pyld's own steps for
the tests that compare the two.

The module is about 810 lines: each of the four is a patch or a check around one pyld step,
and they share its error types and the one path every proof's canonicalization takes, fast
or not.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Final

import pyld.nquads
from pyld import jsonld
from pyld.canon import URDNA2015, permutations
from pyld.context_resolver import ContextResolver
from pyld.identifier_issuer import IdentifierIssuer

from openbadges import _pyldcache, rdfc

CONTEXTS_DIR: Final = Path(__file__).resolve().parent / "contexts"
MANIFEST_PATH: Final = CONTEXTS_DIR / "manifest.json"

#: Default budget of N-degree hash calls per blank node (rdf-canonize's ``maxWorkFactor``
#: idea): ordinary credentials need none at all, a poison graph needs factorially many.
DEFAULT_WORK_FACTOR: Final = 1

# Caps for one canonicalization. An Open Badges 3.0 credential has ~40-150 quads and a few
# dozen blank nodes; a CLR 2.0 with a hundred credentials inside stays well below these.
#: Nesting of the JSON-LD input (pyld recurses per level; the verifier's input cap is 64).
MAX_DEPTH: Final = 100
#: RDF statements (quads) in the dataset.
MAX_QUADS: Final = 50_000
#: Distinct blank nodes in the dataset.
MAX_BLANK_NODES: Final = 5_000
#: Value comparisons pyld's node map makes (Σ k(k-1)/2 over the k values of each property of
#: each node): one property with ~1,400 values; about 0.5 s of CPU.
MAX_NODE_MAP_WORK: Final = 1_000_000
#: Units of N-degree hashing work (a unit ~ one related quad hashed or one blank node placed
#: in a permutation path): about 0.5 s of CPU. Credentials need a few dozen units.
MAX_RDFC_WORK: Final = 2_000_000

JsonObject = dict[str, Any]


class ContextError(Exception):
    """A JSON-LD context could not be served from the bundle (base class)."""


class UnknownContextError(ContextError):
    """The URL is not one of the bundled contexts; we never fetch it from the network."""


class ContextIntegrityError(ContextError):
    """A bundled context file does not match the sha256 pinned in the manifest."""


class SafeModeError(ValueError):
    """The document uses a term or IRI that JSON-LD would silently drop (safe mode)."""


class CanonicalizationLimitError(ValueError):
    """RDFC-1.0 exceeded its work budget: the input looks like a poison graph."""


class CanonicalizationTimeout(CanonicalizationLimitError):
    """The deadline set with :func:`time_limit` passed during canonicalization."""


_deadline: ContextVar[float | None] = ContextVar("openbadges_rdfc_deadline", default=None)


@contextlib.contextmanager
def time_limit(until: float | None) -> Iterator[None]:
    """Make every canonicalization in this block stop at ``time.monotonic()`` ``until``.

    ``None`` sets no deadline. Raises :class:`CanonicalizationTimeout` when it passes.
    """
    token = _deadline.set(until)
    try:
        yield
    finally:
        _deadline.reset(token)


def check_deadline() -> None:
    """Raise :class:`CanonicalizationTimeout` when the :func:`time_limit` deadline has passed."""
    until = _deadline.get()
    if until is not None and time.monotonic() >= until:
        raise CanonicalizationTimeout("canonicalization deadline passed")


class CanonicalizationError(ValueError):
    """The document is not valid JSON-LD (wraps pyld's ``JsonLdError``)."""


# --------------------------------------------------------------------------------------------
# Bundled contexts
# --------------------------------------------------------------------------------------------


@functools.cache
def _manifest() -> dict[str, dict[str, str]]:
    data = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    contexts: dict[str, dict[str, str]] = data["contexts"]
    return contexts


@functools.cache
def bundled_context_urls() -> frozenset[str]:
    """Return the URLs of every context Insignia bundles (and so the only ones it can load)."""
    return frozenset(_manifest())


def load_context(url: str, *, contexts_dir: Path | None = None) -> JsonObject:
    """Return the bundled JSON-LD document for ``url`` after checking its sha256 pin.

    Raises :class:`UnknownContextError` for any URL not in the manifest and
    :class:`ContextIntegrityError` if the file on disk was modified. ``contexts_dir`` exists for
    tests (a tampered copy of the bundle); production code never passes it.
    """
    entry = _manifest().get(url)
    if entry is None:
        raise UnknownContextError(f"JSON-LD context not bundled, refusing to fetch it: {url}")
    if contexts_dir is None:
        return _load_pinned(url)
    return _read_and_check(contexts_dir / entry["file"], entry["sha256"], url)


@functools.cache
def _load_pinned(url: str) -> JsonObject:
    # Cached for the process: the same dict objects are then reused by every canonicalization,
    # which is what lets the processed-context cache key on identity (see _pyldcache).
    entry = _manifest()[url]
    document = _read_and_check(CONTEXTS_DIR / entry["file"], entry["sha256"], url)
    if "@import" in json.dumps(document):
        # pyld merges @import targets in place; a bundled context must stay immutable.
        raise ContextIntegrityError(f"bundled context {url} uses @import")
    _pyldcache.register_bundled(document)
    return document


def _read_and_check(path: Path, expected_sha256: str, url: str) -> JsonObject:
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_sha256:
        raise ContextIntegrityError(
            f"bundled context for {url} has sha256 {digest}, manifest pins {expected_sha256}"
        )
    document: JsonObject = json.loads(raw)
    return document


def document_loader(url: str, options: object = None) -> JsonObject:
    """pyld document loader that serves bundled contexts only and never touches the network.

    Returns a JSON-LD *RemoteDocument* (JSON-LD 1.1 API §9.4.2).
    """
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        # The pinned object itself: pyld keeps it in its resolved-context cache, and _pyldcache
        # keys processed contexts on its (registered, never modified) sub-objects.
        "document": load_context(url),
        # "static" lets pyld keep the resolved context in its shared cache (context_resolver.py)
        # instead of re-resolving and re-hashing it on every call; the bundle never changes.
        "tag": "static",
    }


# --------------------------------------------------------------------------------------------
# RDFC-1.0 canonical N-Quads escaping (RDFC-1.0 §4.3 "canonical n-quads", RDF 1.2 N-Quads §4)
# --------------------------------------------------------------------------------------------

# The escaping lives in openbadges.rdfc, which writes canonical N-Quads itself; pyld is
# patched to use the same functions.
escape_literal = rdfc.escape_literal
unescape_literal = rdfc.unescape_literal


def install_pyld_patches() -> None:
    """Patch pyld's N-Quads escaping to RDFC-1.0 and make its default loader offline.

    Idempotent, and called when this module is imported: every later pyld call in the
    process, ours or not, then serializes literals canonically and cannot fetch a URL.
    """
    pyld.nquads.escape = escape_literal
    pyld.nquads.unescape = unescape_literal
    jsonld.set_document_loader(document_loader)
    _pyldcache.install()


install_pyld_patches()


# --------------------------------------------------------------------------------------------
# Safe mode
# --------------------------------------------------------------------------------------------


def _is_absolute_iri(value: str) -> bool:
    # RFC 3987: an absolute IRI has a scheme. Blank node identifiers are fine too.
    return value.startswith("_:") or re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", value) is not None


_SCHEME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def _looks_safe(expanded: list[Any]) -> bool:
    """True when :func:`_check_expanded` would pass: the same tests in one loop, without the
    paths it builds for its messages (it runs, and raises, only when this says False)."""
    absolute = _SCHEME.match
    stack: list[Any] = [expanded]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if "@value" in node:
            datatype = node.get("@type")
            if (
                isinstance(datatype, str)
                and datatype != "@json"
                and not (datatype.startswith("_:") or absolute(datatype))
            ):
                return False
            if "@direction" in node:
                return False
            continue
        node_id = node.get("@id")
        if isinstance(node_id, str) and not (node_id.startswith("_:") or absolute(node_id)):
            return False
        types = node.get("@type", [])
        if not isinstance(types, list):
            return False
        for type_iri in types:
            if not isinstance(type_iri, str):
                return False
            if not (type_iri.startswith("_:") or absolute(type_iri)):
                return False
        for key, value in node.items():
            if key == "@id" or key == "@type":
                continue
            if key.startswith("_:"):
                return False
            stack.append(value)
    return True


def _check_expanded(node: Any, path: str) -> None:
    """Raise on what jsonld.js safe mode flags after expansion (relative @id/@type/datatype)."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _check_expanded(item, f"{path}[{index}]")
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:
        datatype = node.get("@type")
        if isinstance(datatype, str) and datatype != "@json" and not _is_absolute_iri(datatype):
            raise SafeModeError(f"relative datatype IRI {datatype!r} at {path}")
        if "@direction" in node:
            # jsonld.js: "rdfDirection not set" is not safe; pyld would drop the direction.
            raise SafeModeError(f"@direction cannot be expressed in RDF at {path}")
        return
    node_id = node.get("@id")
    if isinstance(node_id, str) and not _is_absolute_iri(node_id):
        raise SafeModeError(f"relative @id reference {node_id!r} at {path}")
    for type_iri in node.get("@type", []):
        if not _is_absolute_iri(type_iri):
            raise SafeModeError(f"relative @type reference {type_iri!r} at {path}")
    for key, value in node.items():
        if key in ("@id", "@type"):
            continue
        if key.startswith("_:"):
            raise SafeModeError(f"blank node predicate {key!r} at {path}")
        _check_expanded(value, f"{path}/{key}")


def expand(document: JsonObject) -> list[Any]:
    """Expand ``document`` with bundled contexts only, in safe mode.

    Raises :class:`SafeModeError` when a property would be dropped (undefined term) or when an
    ``@id``/``@type``/datatype stays a relative IRI, exactly the cases jsonld.js rejects in safe
    mode (its "invalid property", "relative @id/@type reference" events).
    """
    check_deadline()
    _check_depth(document)
    dropped: list[str | None] = []
    processor = jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    try:
        expanded = _pyld_expand(processor, document)
    except (ContextError, SafeModeError):
        raise
    except RecursionError as error:
        raise CanonicalizationLimitError("the document is nested too deeply") from error
    except jsonld.JsonLdError as error:
        _reraise_cause(error)
        raise CanonicalizationError(str(error)) from error
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as error:
        # pyld has no input validation of its own for some malformed values (e.g. a context
        # URL with a space raises ValueError in its IRI resolver; an integer past any float
        # in a context raises OverflowError when pyld keys its cache): report, never crash.
        raise CanonicalizationError(f"{type(error).__name__}: {error}") from error
    if dropped:
        raise SafeModeError(f"undefined term(s) would be dropped: {sorted(map(str, dropped))}")
    if not _looks_safe(expanded):
        _check_expanded(expanded, "$")
    return expanded


#: Off inside :func:`pyld_only`.
_fast_path = {"enabled": True}


def _pyld_expand(processor: Any, document: Any) -> list[Any]:
    """``JsonLdProcessor.expand(document, {"documentLoader": …, "base": None})``, step for
    step for an object, with :func:`copy_json` in place of its ``copy.deepcopy`` of the
    input (a tenth of the expansion time)."""
    if not isinstance(document, dict) or not _fast_path["enabled"]:
        result: list[Any] = processor.expand(
            document, {"documentLoader": document_loader, "base": None}
        )
        return result
    options: dict[str, Any] = {
        "documentLoader": document_loader,
        "base": None,
        "isFrame": False,
        "keepFreeFloatingNodes": False,
        "contextResolver": ContextResolver(jsonld._resolved_context_cache, document_loader),
        "extractAllScripts": False,
        "processingMode": "json-ld-1.1",
    }
    active_ctx = processor._get_initial_context(options)
    expanded = processor._expand(active_ctx, None, copy_json(document), options, inside_list=False)
    if isinstance(expanded, dict) and "@graph" in expanded and len(expanded) == 1:
        expanded = expanded["@graph"]
    elif expanded is None:
        expanded = []
    arrayed: list[Any] = jsonld.JsonLdProcessor.arrayify(expanded)
    return arrayed


_JSON_LEAVES: Final = frozenset({str, int, float, bool, type(None)})


def copy_json(value: Any) -> Any:
    """``copy.deepcopy`` for JSON data (plain dicts, lists, immutable leaves), several times
    faster; anything else in the tree (a dict subclass, a tuple…) goes to ``copy.deepcopy``.
    Unlike ``deepcopy`` it does not preserve aliasing: an object reachable twice is copied
    twice, which JSON cannot tell apart."""
    cls = value.__class__
    if cls is dict:
        return {k: v if v.__class__ in _JSON_LEAVES else copy_json(v) for k, v in value.items()}
    if cls is list:
        return [v if v.__class__ in _JSON_LEAVES else copy_json(v) for v in value]
    if cls in _JSON_LEAVES:
        return value
    return copy.deepcopy(value)


def _check_depth(document: Any) -> None:
    """Refuse input nested deeper than :data:`MAX_DEPTH`, or with more objects that can only
    become blank nodes than :data:`MAX_BLANK_NODES`, before pyld recurses into it: expanding
    6,000 identical objects costs seconds before the dataset's own caps could say no. Also
    refuses ``@import`` in an embedded context (:class:`SafeModeError`)."""
    stack: list[tuple[Any, int, bool]] = [(document, 1, False)]
    anonymous = 0
    while stack:
        value, depth, in_context = stack.pop()
        if isinstance(value, list):
            if depth > MAX_DEPTH:
                raise CanonicalizationLimitError(f"nested deeper than {MAX_DEPTH} levels")
            stack.extend((item, depth + 1, in_context) for item in value)
        elif isinstance(value, dict):
            if depth > MAX_DEPTH:
                raise CanonicalizationLimitError(f"nested deeper than {MAX_DEPTH} levels")
            # An object without an id is a blank node (or a value or language map, which
            # this over-counts: the cap is a hundred times what a credential needs).
            if in_context and "@import" in value:
                # pyld merges an imported context *into the loaded document* — here the one
                # shared, bundled copy — so every later canonicalization in the process would
                # see the attacker's terms. jsonld.js does not; we refuse it (a credential
                # context never needs @import).
                raise SafeModeError("@import in an embedded context is not supported")
            if not in_context and not ({"id", "@id", "@value"} & value.keys()):
                anonymous += 1
                if anonymous > MAX_BLANK_NODES:
                    raise CanonicalizationLimitError(
                        f"more than {MAX_BLANK_NODES} objects without an id"
                    )
            stack.extend(
                (item, depth + 1, in_context or key == "@context") for key, item in value.items()
            )


def _check_size(expanded: list[Any]) -> None:
    """Price the RDF conversion of an expanded document before pyld runs it.

    pyld's node map checks each new value of a property against every earlier one
    (``JsonLdProcessor.has_value``), so ``k`` values of one property of one node cost
    ``k(k-1)/2`` comparisons: 6,000 identical evidence objects took ~7 s of CPU. Nodes with
    one ``@id`` are merged by the node map, so their values are counted together. Also
    estimates quads and blank nodes, so the caps hold before the dataset exists.
    """
    per_property: dict[tuple[Any, str], int] = {}
    blank_nodes: set[Any] = set()
    quads = 0
    stack: list[Any] = list(expanded)
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict) or "@value" in item:
            continue
        if "@list" in item:
            members = item["@list"] if isinstance(item["@list"], list) else [item["@list"]]
            quads += 2 * len(members)  # rdf:first and rdf:rest, one blank node per member
            blank_nodes.update((id(item), index) for index in range(len(members)))
            stack.extend(members)
            continue
        node_id = item.get("@id")
        subject: Any = node_id if isinstance(node_id, str) else id(item)
        if not isinstance(node_id, str) or node_id.startswith("_:"):
            blank_nodes.add(subject)
        for key, value in item.items():
            values = value if isinstance(value, list) else [value]
            if key == "@reverse" and isinstance(value, dict):
                for prop, reverse_values in value.items():
                    for reverse in reverse_values if isinstance(reverse_values, list) else []:
                        other = reverse.get("@id") if isinstance(reverse, dict) else None
                        key_of = (other if isinstance(other, str) else id(reverse), prop)
                        per_property[key_of] = per_property.get(key_of, 0) + 1
                        quads += 1
                        stack.append(reverse)
                continue
            if key in ("@graph", "@included"):
                stack.extend(values)
                continue
            if key.startswith("@") and key != "@type":
                continue
            per_property[(subject, key)] = per_property.get((subject, key), 0) + len(values)
            quads += len(values)
            stack.extend(values)
    if quads > MAX_QUADS:
        raise CanonicalizationLimitError(f"about {quads} quads, more than {MAX_QUADS}")
    if len(blank_nodes) > MAX_BLANK_NODES:
        raise CanonicalizationLimitError(
            f"{len(blank_nodes)} blank nodes, more than {MAX_BLANK_NODES}"
        )
    work = sum(k * (k - 1) // 2 for k in per_property.values())
    if work > MAX_NODE_MAP_WORK:
        raise CanonicalizationLimitError(
            f"JSON-LD to RDF would make {work} comparisons, more than {MAX_NODE_MAP_WORK}"
        )


def _reraise_cause(error: BaseException) -> None:
    # pyld wraps loader failures in JsonLdError; surface our own exception types unchanged.
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ContextError | SafeModeError):
            raise cause
        cause = cause.__cause__ or cause.__context__


# --------------------------------------------------------------------------------------------
# RDFC-1.0 with a work limit
# --------------------------------------------------------------------------------------------


class _LimitedURDNA2015(URDNA2015):  # type: ignore[misc]
    """pyld's URDNA2015 (= RDFC-1.0) with budgets on Hash N-Degree Quads (RDFC-1.0 §4.9).

    Two bounds, both for the whole run:

    * like rdf-canonize (what jsonld.js verifiers run), the number of N-degree hash calls is
      at most the number of blank nodes whose first-degree hash is not unique, raised to
      ``work_factor``;
    * the real work — each call's related quads, each permutation tried (its blank nodes and
      the copy of the issuer it makes) — is at most :data:`MAX_RDFC_WORK` units, so a graph
      that permutes a lot with few calls is bounded too.

    The :func:`time_limit` deadline is checked with every unit charged.
    """

    def __init__(self, work_factor: int) -> None:
        super().__init__()
        self.work_factor = work_factor
        self.max_deep_iterations: int | None = None
        self.deep_iterations = 0
        self.work = 0

    def _charge(self, units: int) -> None:
        self.work += units
        if self.work > MAX_RDFC_WORK:
            raise CanonicalizationLimitError(
                f"RDFC-1.0 work limit of {MAX_RDFC_WORK} units exceeded (poison graph?)"
            )
        check_deadline()

    def hash_n_degree_quads(self, id_: str, issuer: IdentifierIssuer) -> dict[str, Any]:
        if self.max_deep_iterations is None:
            # First call happens in step 6, when hash_to_blank_nodes holds only the
            # blank nodes that step 5 could not label.
            non_unique = sum(len(ids) for ids in self.hash_to_blank_nodes.values())
            self.max_deep_iterations = non_unique**self.work_factor
        self.deep_iterations += 1
        if self.deep_iterations > self.max_deep_iterations:
            raise CanonicalizationLimitError(
                f"RDFC-1.0 work limit of {self.max_deep_iterations} N-degree hashes exceeded "
                "(poison graph?)"
            )
        self._charge(1 + len(self.blank_node_info[id_]["quads"]))
        return self._hash_n_degree_quads(id_, issuer)

    def _hash_n_degree_quads(self, id_: str, issuer: IdentifierIssuer) -> dict[str, Any]:
        # pyld 3.3's URDNA2015.hash_n_degree_quads (RDFC-1.0 §4.9.3), step for step, with the
        # work of each permutation charged and a flat copy of the issuer instead of deepcopy.
        hash_to_related = self.create_hash_to_related(id_, issuer)
        md = self.create_hash()
        for related_hash, blank_nodes in sorted(hash_to_related.items()):
            md.update(related_hash.encode("utf8"))
            chosen_path = ""
            chosen_issuer: IdentifierIssuer | None = None
            for permutation in permutations(blank_nodes):
                self._charge(len(permutation) + len(issuer.order))
                issuer_copy = _copy_issuer(issuer)
                path = ""
                recursion_list: list[str] = []
                skip = False
                for related in permutation:
                    if self.canonical_issuer.has_id(related):
                        path += self.canonical_issuer.get_id(related)
                    else:
                        if not issuer_copy.has_id(related):
                            recursion_list.append(related)
                        path += issuer_copy.get_id(related)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion_list:
                    result = self.hash_n_degree_quads(related, issuer_copy)
                    path += issuer_copy.get_id(related)
                    path += "<" + result["hash"] + ">"
                    issuer_copy = result["issuer"]
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            md.update(chosen_path.encode("utf8"))
            issuer = chosen_issuer
        return {"hash": md.hexdigest(), "issuer": issuer}

    def modify_first_degree_component(
        self, id_: str, component: dict[str, Any], key: str
    ) -> dict[str, Any]:
        # RDFC-1.0 §4.6.3 step 3.1.1: a blank node is serialized as _:a (the reference node)
        # or _:z. pyld deep-copies the component for this; a term is a flat dict of strings,
        # so a shallow copy is the same and a fifth of the canonicalization time cheaper.
        if component["type"] != "blank node":
            return component
        return {**component, "value": "_:a" if component["value"] == id_ else "_:z"}


_TO_RDF_OPTIONS: Final = {
    "produceGeneralizedRdf": False,
    "rdfDirection": None,
    "processingMode": "json-ld-1.1",
}


def _node_map(
    document: JsonObject, expanded: list[Any] | None = None
) -> tuple[Any, dict[str, Any], IdentifierIssuer]:
    """Expand ``document`` (safe mode, caps) unless ``expanded`` is given, and build pyld's
    node map (JSON-LD 1.1 API §7.2 "Node Map Generation"):
    ``(processor, {graph name: {node id: node}}, issuer)``."""
    if expanded is None:
        expanded = _expanded(document)
    processor = jsonld.JsonLdProcessor()
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    with _pyld_errors():
        processor._create_node_map(expanded, node_map, "@default", issuer)
    for graph_name in node_map:
        if graph_name != "@default" and not _is_absolute_iri(graph_name):
            raise SafeModeError(f"relative graph reference {graph_name!r}")
    return processor, node_map, issuer


def _expanded(document: JsonObject) -> list[Any]:
    expanded = expand(document)
    _check_size(expanded)
    check_deadline()
    return expanded


@contextlib.contextmanager
def _pyld_errors() -> Iterator[None]:
    try:
        yield
    except SafeModeError:
        raise
    except RecursionError as error:
        raise CanonicalizationLimitError("the document is nested too deeply") from error
    except (jsonld.JsonLdError, ValueError, TypeError, KeyError) as error:
        raise CanonicalizationError(str(error)) from error


def to_rdf(document: JsonObject) -> dict[str, list[dict[str, Any]]]:
    """Convert ``document`` to an RDF dataset (pyld's dict form), offline and in safe mode.

    JSON-LD 1.1 API §4.8 "Deserialize JSON-LD to RDF": node map, then one triple list per graph.
    The expanded form from :func:`expand` is used directly rather than re-expanded by
    ``pyld.jsonld.to_rdf``.
    """
    processor, node_map, issuer = _node_map(document)
    dataset: dict[str, list[dict[str, Any]]] = {}
    with _pyld_errors():
        for graph_name, graph in sorted(node_map.items()):
            dataset[graph_name] = processor._graph_to_rdf(graph, issuer, dict(_TO_RDF_OPTIONS))
    return dataset


def _to_quads(document: JsonObject) -> tuple[list[rdfc.Quad], list[str]] | None:
    """:func:`to_rdf` as N-Quads term strings and the blank-node graph names, or ``None``
    when the dataset holds something only pyld's dict form can carry.

    Straight from the expanded form when the node map would merge nothing
    (:func:`openbadges.rdfc.expanded_terms`), else from pyld's node map
    (:func:`openbadges.rdfc.graph_terms`)."""
    expanded = _expanded(document)
    options = dict(_TO_RDF_OPTIONS)
    try:
        with _pyld_errors():
            return rdfc.expanded_terms(expanded, jsonld.JsonLdProcessor(), options), []
    except rdfc.NotPlain:
        pass
    processor, node_map, issuer = _node_map(document, expanded)
    quads: list[rdfc.Quad] = []
    try:
        with _pyld_errors():
            for graph_name, graph in sorted(node_map.items()):
                if graph_name == "@default":
                    graph_term = ""
                elif graph_name.startswith("_:"):
                    graph_term = graph_name
                    if graph_name.startswith(rdfc.CANONICAL_PREFIX):
                        return None
                else:
                    graph_term = "<" + graph_name + ">"
                rdfc.graph_terms(processor, graph, graph_term, issuer, options, _KEYWORDS, quads)
    except rdfc.NotPlain:
        return None
    return quads, [name for name in node_map if name.startswith("_:")]


_KEYWORDS: Final = frozenset(jsonld.KEYWORDS)


@contextlib.contextmanager
def pyld_only() -> Iterator[None]:
    """Run a block with pyld's own steps throughout (tests compare against it): its
    ``expand``, its ``_graph_to_rdf`` and its RDFC-1.0, our safe-mode checks and limits
    around them."""
    previous = _fast_path["enabled"]
    _fast_path["enabled"] = False
    try:
        yield
    finally:
        _fast_path["enabled"] = previous


def canonicalize_dataset(
    dataset: dict[str, list[dict[str, Any]]], *, work_factor: int = DEFAULT_WORK_FACTOR
) -> str:
    """Run RDFC-1.0 on an RDF dataset and return canonical N-Quads (one string, sorted lines).

    Datasets whose blank nodes all have distinct first-degree hashes (nearly every credential)
    are canonicalized by :mod:`openbadges.rdfc`; the rest by pyld's algorithm. The budget is
    then ``(blank nodes with a non-unique first-degree hash) ** work_factor`` N-degree hash
    calls, as in rdf-canonize, and :data:`MAX_RDFC_WORK` units of hashing work; quads and
    blank nodes are capped either way. Typical credentials need almost none, a poison graph
    exhausts it quickly and raises :class:`CanonicalizationLimitError`.
    """
    if work_factor < 1:
        raise ValueError("work_factor must be >= 1")
    _check_quad_count(sum(len(triples) for triples in dataset.values()))
    quads = rdfc.from_pyld_dataset(dataset) if _fast_path["enabled"] else None
    if quads is None:
        return _canonicalize_with_pyld(dataset, work_factor)
    return canonicalize_quads(
        quads,
        lambda: dataset,
        work_factor=work_factor,
        graph_names=[name for name in dataset if name.startswith("_:")],
    )


def canonicalize_quads(
    quads: list[rdfc.Quad],
    dataset: Callable[[], dict[str, list[dict[str, Any]]]],
    *,
    work_factor: int = DEFAULT_WORK_FACTOR,
    graph_names: list[str] | None = None,
) -> str:
    """RDFC-1.0 of a dataset given as term strings (:mod:`openbadges.rdfc`), with the same
    caps as :func:`canonicalize_dataset`. ``dataset`` returns the same dataset in pyld's form
    for when blank nodes share a first-degree hash and pyld's algorithm has to decide;
    ``graph_names`` are blank-node graph names that may have no quads (they count as nodes)."""
    _check_quad_count(len(quads))
    info = rdfc.blank_node_quads(quads)
    blank_nodes = len(info) + sum(1 for name in graph_names or () if name not in info)
    if blank_nodes > MAX_BLANK_NODES:
        raise CanonicalizationLimitError(f"{blank_nodes} blank nodes, more than {MAX_BLANK_NODES}")
    check_deadline()
    canonical = rdfc.canonical_nquads(quads, info) if _fast_path["enabled"] else None
    if canonical is not None:
        return canonical
    return _canonicalize_with_pyld(dataset(), work_factor)


def _canonicalize_with_pyld(dataset: dict[str, list[dict[str, Any]]], work_factor: int) -> str:
    _check_dataset(dataset)
    check_deadline()
    canonical: str = _LimitedURDNA2015(work_factor).main(dataset, {"format": "application/n-quads"})
    return canonical


def _check_quad_count(quads: int) -> None:
    if quads > MAX_QUADS:
        raise CanonicalizationLimitError(f"{quads} quads, more than {MAX_QUADS}")


def _check_dataset(dataset: dict[str, list[dict[str, Any]]]) -> None:
    """The quad and blank-node caps, counted exactly on the dataset."""
    _check_quad_count(sum(len(triples) for triples in dataset.values()))
    blank_nodes: set[Any] = {name for name in dataset if name.startswith("_:")}
    for triples in dataset.values():
        for triple in triples:
            for position in ("subject", "object"):
                term = triple.get(position)
                if isinstance(term, dict) and term.get("type") == "blank node":
                    blank_nodes.add(term.get("value"))
    if len(blank_nodes) > MAX_BLANK_NODES:
        raise CanonicalizationLimitError(
            f"{len(blank_nodes)} blank nodes, more than {MAX_BLANK_NODES}"
        )


def _copy_issuer(issuer: IdentifierIssuer) -> IdentifierIssuer:
    """``copy.deepcopy`` of an issuer (its state is strings), in linear time and no more."""
    copied = IdentifierIssuer(issuer.prefix)
    copied.counter = issuer.counter
    copied.existing = dict(issuer.existing)
    copied.order = list(issuer.order)
    return copied


def canonicalize(document: JsonObject, *, work_factor: int = DEFAULT_WORK_FACTOR) -> str:
    """Return the RDFC-1.0 canonical N-Quads of a JSON-LD document (offline, safe mode).

    This is the ``canonicalize`` step of eddsa-rdfc-2022 (vc-di-eddsa §3.3.1/§3.3.3).
    """
    if _fast_path["enabled"]:
        converted = _to_quads(document)
        if converted is not None:
            quads, graph_names = converted
            return canonicalize_quads(
                quads,
                lambda: to_rdf(document),
                work_factor=work_factor,
                graph_names=graph_names,
            )
    return canonicalize_dataset(to_rdf(document), work_factor=work_factor)
