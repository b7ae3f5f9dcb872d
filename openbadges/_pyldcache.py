"""Memoize pyld's context processing for the bundled (immutable) contexts.

Why (DESIGN.md §10): pyld 3.3 spends most of an OB 3.0 canonicalization re-processing the same
type-scoped contexts for every node — a type-scoped context is applied with
``propagate=False`` to a fresh clone, which gets a fresh ``_uuid``, so pyld's own
``ResolvedContext`` cache never hits — and hashing context objects with JCS to build cache keys.

What: ``JsonLdProcessor._process_context(active_ctx, local_ctx, …)`` is a pure function of
its inputs. We cache its result when

* ``active_ctx`` is a processed context pyld has frozen (a ``frozendict`` — nobody mutates it),
* ``local_ctx`` is a URL, a list of URLs, or an object/list that belongs to a bundled context
  document (those are loaded once per process and never modified),
* the call is not one of pyld's internal recursive validation calls (``cycles`` given).

Keys use object identity; each entry keeps strong references to the objects whose ids it uses,
so an id cannot be recycled while its entry lives. Anything else goes straight to pyld.

Expansion then spends a fifth of its time in ``JsonLdProcessor._expand_iri`` (a term or
compact IRI to a full IRI; ~200 calls per credential, nearly all for the same few dozen
keys). Outside context processing (no ``local_ctx``) it is a pure function of the frozen
active context, the value, ``base`` and ``vocab``, so it is memoized the same way. Two of
pyld's module helpers that it calls ~400 times per credential, ``_is_keyword`` (a list
scan) and ``_is_absolute_iri`` (``re.match`` with a pattern string, looked up in ``re``'s
cache on every call), are replaced by equivalents over a set and a compiled pattern.

The cache changes no output: ``tests/openbadges/test_pyldcache.py`` compares canonical
N-Quads with and without it, byte for byte, over generated credentials.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, Final

import pyld.jsonld
from frozendict import frozendict
from pyld.jsonld import JsonLdProcessor

MAX_ENTRIES: Final = 4096
#: Memoized IRI expansions; the memo is emptied when it reaches this size.
MAX_IRI_ENTRIES: Final = 65_536

_ORIGINAL: Final[Callable[..., Any]] = JsonLdProcessor._process_context
_ORIGINAL_EXPAND_IRI: Final[Callable[..., Any]] = JsonLdProcessor._expand_iri
_ORIGINAL_HELPERS: Final = (pyld.jsonld._is_keyword, pyld.jsonld._is_absolute_iri)
_iris: dict[tuple[int, str, Any, bool], tuple[Any, Any]] = {}
_KEYWORDS: Final = frozenset(pyld.jsonld.KEYWORDS)
# pyld's own pattern (jsonld._is_absolute_iri), compiled once.
_ABSOLUTE_IRI: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
_lock = threading.Lock()
_cache: OrderedDict[tuple[Any, ...], tuple[Any, Any, Any, Any]] = OrderedDict()
_bundled_ids: dict[int, Any] = {}  # id -> object (strong reference keeps the id valid)
_state = {"enabled": True, "hits": 0, "misses": 0}


def register_bundled(document: Any) -> None:
    """Mark every object and list inside a bundled context document as immutable/cacheable."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list):
            _bundled_ids[id(item)] = item
            stack.extend(item.values() if isinstance(item, dict) else item)


def _local_key(local_ctx: Any) -> tuple[Any, ...] | None:
    if isinstance(local_ctx, str):
        return ("url", local_ctx)
    if _bundled_ids.get(id(local_ctx)) is local_ctx:
        return ("bundled", id(local_ctx))
    if isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
        return ("urls", tuple(local_ctx))
    return None


def _process_context(
    self: JsonLdProcessor,
    active_ctx: Any,
    local_ctx: Any,
    options: dict[str, Any],
    override_protected: bool = False,
    propagate: bool = True,
    validate_scoped: bool = True,
    cycles: set[str] | None = None,
) -> Any:
    args = (override_protected, propagate, validate_scoped, cycles)
    local_key = _local_key(local_ctx)
    if (
        not _state["enabled"]
        or cycles is not None
        or local_key is None
        or not isinstance(active_ctx, frozendict)
    ):
        return _ORIGINAL(self, active_ctx, local_ctx, options, *args)
    loader = options.get("documentLoader")
    key = (
        id(active_ctx),
        local_key,
        override_protected,
        propagate,
        validate_scoped,
        options.get("base"),
        options.get("processingMode"),
        id(loader),
    )
    with _lock:
        entry = _cache.get(key)
        if entry is not None and entry[0] is active_ctx and entry[2] is loader:
            _cache.move_to_end(key)
            _state["hits"] += 1
            return entry[3]
    result = _ORIGINAL(self, active_ctx, local_ctx, options, *args)
    if isinstance(result, frozendict):
        with _lock:
            _state["misses"] += 1
            _cache[key] = (active_ctx, local_ctx, loader, result)
            while len(_cache) > MAX_ENTRIES:
                _cache.popitem(last=False)
    return result


def _expand_iri(
    self: JsonLdProcessor,
    active_ctx: Any,
    value: Any,
    base: Any = None,
    vocab: bool = False,
    local_ctx: Any = None,
    defined: Any = None,
) -> Any:
    if local_ctx is None and defined is None and _state["enabled"]:
        try:
            entry = _iris.get((id(active_ctx), value, base, bool(vocab)))
        except TypeError:  # an unhashable value or base: not ours to cache
            entry = None
        if entry is not None and entry[0] is active_ctx:
            return entry[1]
        if (
            isinstance(active_ctx, frozendict)
            and isinstance(value, str)
            and isinstance(base, str | None)
        ):
            result = _ORIGINAL_EXPAND_IRI(self, active_ctx, value, base, vocab)
            if len(_iris) >= MAX_IRI_ENTRIES:
                _iris.clear()
            # The entry holds the context, so its id cannot be reused while the entry lives.
            _iris[(id(active_ctx), value, base, bool(vocab))] = (active_ctx, result)
            return result
    return _ORIGINAL_EXPAND_IRI(self, active_ctx, value, base, vocab, local_ctx, defined)


def _is_keyword(value: Any) -> bool:
    return isinstance(value, str) and value in _KEYWORDS


def _is_absolute_iri(value: Any) -> Any:
    # The same truthy match object (or a falsy value) as pyld's.
    return isinstance(value, str) and _ABSOLUTE_IRI.match(value)


def install() -> None:
    """Route ``_process_context`` and ``_expand_iri`` through the caches and swap in the
    faster helpers (idempotent)."""
    JsonLdProcessor._process_context = _process_context
    JsonLdProcessor._expand_iri = _expand_iri
    pyld.jsonld._is_keyword = _is_keyword
    pyld.jsonld._is_absolute_iri = _is_absolute_iri


def stats() -> dict[str, int]:
    """Hit/miss counters and size, for tests and benchmarks."""
    with _lock:
        return {"hits": _state["hits"], "misses": _state["misses"], "size": len(_cache)}


def clear() -> None:
    """Drop every cached processed context."""
    with _lock:
        _cache.clear()
        _iris.clear()


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run a block with plain pyld context processing and IRI expansion, and pyld's own
    helpers (for byte-for-byte comparisons)."""
    previous = _state["enabled"]
    helpers = (pyld.jsonld._is_keyword, pyld.jsonld._is_absolute_iri)
    _state["enabled"] = False
    pyld.jsonld._is_keyword, pyld.jsonld._is_absolute_iri = _ORIGINAL_HELPERS
    try:
        yield
    finally:
        _state["enabled"] = previous
        pyld.jsonld._is_keyword, pyld.jsonld._is_absolute_iri = helpers
