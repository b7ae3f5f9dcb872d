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
4. **Work limit.** The N-degree hashing step is exponential on crafted "poison" graphs; a
   budget of deep iterations bounds it (RDFC-1.0 §4.1 "resource exhaustion", like
   rdf-canonize's ``maxWorkFactor``).

The algorithm name pyld accepts is ``URDNA2015``; its output is identical to RDFC-1.0.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Final

import pyld.nquads
from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.identifier_issuer import IdentifierIssuer

from openbadges import _pyldcache

CONTEXTS_DIR: Final = Path(__file__).resolve().parent / "contexts"
MANIFEST_PATH: Final = CONTEXTS_DIR / "manifest.json"

#: Default budget of N-degree hash calls per blank node (rdf-canonize's ``maxWorkFactor``
#: idea): ordinary credentials need none at all, a poison graph needs factorially many.
DEFAULT_WORK_FACTOR: Final = 1

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
    dropped: list[str | None] = []
    processor = jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    try:
        expanded: list[Any] = processor.expand(
            document, {"documentLoader": document_loader, "base": None}
        )
    except (ContextError, SafeModeError):
        raise
    except jsonld.JsonLdError as error:
        _reraise_cause(error)
        raise CanonicalizationError(str(error)) from error
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
        # pyld has no input validation of its own for some malformed values (e.g. a context
        # URL with a space raises ValueError in its IRI resolver): report, never crash.
        raise CanonicalizationError(f"{type(error).__name__}: {error}") from error
    if dropped:
        raise SafeModeError(f"undefined term(s) would be dropped: {sorted(map(str, dropped))}")
    _check_expanded(expanded, "$")
    return expanded


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
    """pyld's URDNA2015 (= RDFC-1.0) with a budget on Hash N-Degree Quads (RDFC-1.0 §4.9).

    Like rdf-canonize (what jsonld.js verifiers run): the budget is the number of blank nodes
    whose first-degree hash is not unique, raised to ``work_factor``, for the whole run.
    """

    def __init__(self, work_factor: int) -> None:
        super().__init__()
        self.work_factor = work_factor
        self.max_deep_iterations: int | None = None
        self.deep_iterations = 0

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
        result: dict[str, Any] = super().hash_n_degree_quads(id_, issuer)
        return result

    def modify_first_degree_component(
        self, id_: str, component: dict[str, Any], key: str
    ) -> dict[str, Any]:
        # RDFC-1.0 §4.6.3 step 3.1.1: a blank node is serialized as _:a (the reference node)
        # or _:z. pyld deep-copies the component for this; a term is a flat dict of strings,
        # so a shallow copy is the same and a fifth of the canonicalization time cheaper.
        if component["type"] != "blank node":
            return component
        return {**component, "value": "_:a" if component["value"] == id_ else "_:z"}


def to_rdf(document: JsonObject) -> dict[str, list[dict[str, Any]]]:
    """Convert ``document`` to an RDF dataset (pyld's dict form), offline and in safe mode.

    JSON-LD 1.1 API §4.8 "Deserialize JSON-LD to RDF": node map, then one triple list per graph.
    The expanded form from :func:`expand` is used directly rather than re-expanded by
    ``pyld.jsonld.to_rdf``.
    """
    expanded = expand(document)
    processor = jsonld.JsonLdProcessor()
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    options = {
        "produceGeneralizedRdf": False,
        "rdfDirection": None,
        "processingMode": "json-ld-1.1",
    }
    try:
        processor._create_node_map(expanded, node_map, "@default", issuer)
        dataset: dict[str, list[dict[str, Any]]] = {}
        for graph_name, graph in sorted(node_map.items()):
            if graph_name != "@default" and not _is_absolute_iri(graph_name):
                raise SafeModeError(f"relative graph reference {graph_name!r}")
            dataset[graph_name] = processor._graph_to_rdf(graph, issuer, options)
    except SafeModeError:
        raise
    except (jsonld.JsonLdError, ValueError, TypeError, KeyError) as error:
        raise CanonicalizationError(str(error)) from error
    return dataset


def canonicalize_dataset(
    dataset: dict[str, list[dict[str, Any]]], *, work_factor: int = DEFAULT_WORK_FACTOR
) -> str:
    """Run RDFC-1.0 on an RDF dataset and return canonical N-Quads (one string, sorted lines).

    The budget is ``(blank nodes with a non-unique first-degree hash) ** work_factor``
    N-degree hash calls, as in rdf-canonize: typical credentials need none, a poison graph
    exhausts it quickly and raises :class:`CanonicalizationLimitError`.
    """
    if work_factor < 1:
        raise ValueError("work_factor must be >= 1")
    canonical: str = _LimitedURDNA2015(work_factor).main(dataset, {"format": "application/n-quads"})
    return canonical


def canonicalize(document: JsonObject, *, work_factor: int = DEFAULT_WORK_FACTOR) -> str:
    """Return the RDFC-1.0 canonical N-Quads of a JSON-LD document (offline, safe mode).

    This is the ``canonicalize`` step of eddsa-rdfc-2022 (vc-di-eddsa §3.3.1/§3.3.3).
    """
    return canonicalize_dataset(to_rdf(document), work_factor=work_factor)
