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
The cache changes no output: ``tests/openbadges/test_pyldcache.py`` compares canonical
N-Quads with and without it, byte for byte, over generated credentials.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, Final

from frozendict import frozendict
from pyld.jsonld import JsonLdProcessor

MAX_ENTRIES: Final = 4096

_ORIGINAL: Final[Callable[..., Any]] = JsonLdProcessor._process_context
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


def install() -> None:
    """Route ``JsonLdProcessor._process_context`` through the cache (idempotent)."""
    JsonLdProcessor._process_context = _process_context


def stats() -> dict[str, int]:
    """Hit/miss counters and size, for tests and benchmarks."""
    with _lock:
        return {"hits": _state["hits"], "misses": _state["misses"], "size": len(_cache)}


def clear() -> None:
    """Drop every cached processed context."""
    with _lock:
        _cache.clear()


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run a block with plain pyld context processing (for byte-for-byte comparisons)."""
    previous = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = previous
