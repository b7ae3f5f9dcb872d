"""Fuzzing the baking extractors and the status-list decoder (research S-30).

Mutated baked PNGs and SVGs (our own bakes and the 1EdTech fixtures) go to
``openbadges.baking.extract`` and ``bake``: the only error either may raise is
``BakingError`` (too large, not an image, a broken one), whatever the bytes. Mutated
``encodedList`` values go to ``openbadges.statuslist.decode``: only ``StatusListError``.
Every input runs under the hang watchdog of ``tests/fuzz/engine.py``.
"""

from __future__ import annotations

import base64
import functools
import gzip
import io
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from PIL import Image

from openbadges import baking, statuslist
from tests.fuzz.engine import Tally, fuzz
from tests.fuzz.mutations import SVG, mutated, png_mutated, svg_mutated
from tests.verification.helpers import did_key_credential

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "baked"


@functools.cache
def credential() -> dict[str, Any]:
    return did_key_credential()


@functools.cache
def plain_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "#1f4e79").save(buffer, format="PNG")
    return buffer.getvalue()


@functools.cache
def baked_pngs() -> tuple[bytes, ...]:
    text = json.dumps(credential(), ensure_ascii=False)
    return (
        baking.bake_png(plain_png(), text),
        baking.bake_png(plain_png(), "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2ln"),
        baking.bake_png(plain_png(), "https://issuer.example/assertions/1", version="ob2"),
        (FIXTURES / "simple-json.png").read_bytes(),
        (FIXTURES / "ob20-simple-badge.png").read_bytes(),
    )


@functools.cache
def baked_svgs() -> tuple[bytes, ...]:
    return (
        baking.bake_svg(SVG, json.dumps(credential(), ensure_ascii=False)),
        baking.bake_svg(SVG, "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2ln"),
        baking.bake_svg(SVG, "https://issuer.example/assertions/1", version="ob2"),
        (FIXTURES / "simple-json.svg").read_bytes(),
        (FIXTURES / "simple-jwt.svg").read_bytes(),
    )


def _extract_and_bake(tally: Tally, data: bytes) -> None:
    """Only ``BakingError`` from either direction. A PNG we agree to bake reads back as
    baked; an SVG is baked unparsed (uploads are sanitised first, ``issuers.images``), so a
    broken one may stay broken: counted, not asserted."""
    try:
        found = tally.run(data, lambda: baking.extract(data))
    except baking.BakingError as error:
        tally.outcome(type(error).__name__)
    else:
        tally.outcome("none" if found is None else f"found {found.format} {found.kind}")
        if found is not None:
            assert isinstance(found.payload, str)
    try:
        baked = tally.run(data, lambda: baking.bake(data, credential()))
    except baking.BakingError:
        tally.outcome("bake refused")
        return
    try:
        again = baking.extract(baked)
    except baking.BakingError as error:
        assert not baked.startswith(baking.PNG_SIGNATURE), f"a baked PNG is unreadable: {error}"
        tally.outcome(f"baked SVG unreadable ({type(error).__name__})")
        return
    assert again is not None and again.json() == credential(), "a baked credential was lost"
    tally.outcome("bake round trip")


def _pngs() -> st.SearchStrategy[bytes]:
    bases = st.sampled_from(baked_pngs())
    return st.one_of(
        bases.flatmap(png_mutated),
        bases.flatmap(mutated),
        st.binary(max_size=64).map(lambda tail: baking.PNG_SIGNATURE + tail),
    )


def _svgs() -> st.SearchStrategy[bytes]:
    bases = st.sampled_from(baked_svgs())
    return st.one_of(bases.flatmap(svg_mutated), bases.flatmap(mutated))


def test_baked_png() -> None:
    tally = fuzz("baked_png", _pngs(), _extract_and_bake)
    assert tally.examples > 0


def test_baked_svg() -> None:
    tally = fuzz("baked_svg", _svgs(), _extract_and_bake)
    assert tally.examples > 0


# --------------------------------------------------------------------------------------------
# Status lists
# --------------------------------------------------------------------------------------------


def _encoded(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@functools.cache
def status_lists() -> tuple[bytes, ...]:
    """GZIP members: a real list, one too short, a 64 MiB bomb, one with a set bit."""
    real = statuslist.new_bitstring()
    statuslist.set_bit(real, 94567)
    return (
        gzip.compress(bytes(real), mtime=0),
        gzip.compress(b"\x00" * 1024, mtime=0),
        gzip.compress(b"\x00" * (64 << 20), compresslevel=9, mtime=0),
        gzip.compress(b"\xff" * (16 << 10), mtime=0),
    )


def _status_texts() -> st.SearchStrategy[str]:
    members = st.sampled_from(status_lists())
    return st.one_of(
        members.flatmap(mutated).map(_encoded),
        members.map(_encoded).flatmap(
            lambda text: mutated(text.encode()).map(lambda b: b.decode("latin-1"))
        ),
        st.text(max_size=200).map(lambda text: "u" + text),
        st.text(max_size=50),
        st.binary(max_size=512).map(_encoded),
    )


def _decode(tally: Tally, encoded: str) -> None:
    try:
        bits = tally.run(encoded, lambda: statuslist.decode(encoded))
    except statuslist.StatusListError as error:
        tally.outcome(type(error).__name__)
        return
    tally.outcome("decoded")
    for index in (0, 94567, len(bits) * 8 - 1, len(bits) * 8, -1):
        try:
            statuslist.is_set(bits, index)
        except statuslist.StatusRangeError:
            tally.outcome("out of range")


def test_status_list() -> None:
    tally = fuzz("status_list", _status_texts(), _decode)
    assert tally.examples > 0
