"""Byte-level mutations for the fuzz pass: any bytes, baked PNGs and baked SVGs.

``mutated(base)`` applies one to four edits a fuzzer would (flip, overwrite, insert, delete,
duplicate, truncate). ``png_mutated`` adds edits that know PNG's chunk layout (a chunk
duplicated, dropped or moved, a declared length of 2^31, a CRC made right again after the
data changed so the reader gets past the CRC, extra or compressed text chunks, a deflate
bomb); ``svg_mutated`` adds XML tricks (entities, external references, XInclude, odd
encodings, deep nesting, a second credential element).
"""

from __future__ import annotations

import struct
import zlib

from hypothesis import strategies as st

from openbadges.baking import OB2_PNG_KEYWORD, OB3_PNG_KEYWORD, PNG_SIGNATURE

Draw = st.DrawFn

#: A plain SVG to bake into.
SVG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
    '<circle cx="32" cy="32" r="30" fill="#1f4e79"/><text x="8" y="36">徽章</text></svg>'
).encode()


def _edit(draw: Draw, data: bytes) -> bytes:
    size = len(data)
    where = draw(st.integers(0, max(size - 1, 0)))
    kind = draw(
        st.sampled_from(["flip", "set", "insert", "delete", "duplicate", "truncate", "repeat"])
    )
    if kind == "flip" and size:
        bit = draw(st.integers(1, 255))
        return data[:where] + bytes([data[where] ^ bit]) + data[where + 1 :]
    if kind == "set" and size:
        value = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, ord("<"), ord("&"), ord('"'), 0x0A]))
        return data[:where] + bytes([value]) + data[where + 1 :]
    if kind == "insert":
        return data[:where] + draw(st.binary(min_size=1, max_size=64)) + data[where:]
    if kind == "delete":
        length = draw(st.integers(1, 512))
        return data[:where] + data[where + length :]
    if kind == "duplicate":
        length = draw(st.integers(1, 4096))
        return data[:where] + data[where : where + length] * 2 + data[where + length :]
    if kind == "truncate":  # (Hypothesis favours 0; an empty input is generated elsewhere)
        return data[: where or size // 2]
    length = draw(st.integers(1, 16))
    times = draw(st.integers(2, 2000))  # at most 32 KiB more
    return data[:where] + data[where : where + length] * times + data[where:]


@st.composite
def mutated(draw: Draw, base: bytes) -> bytes:
    """``base`` with one to four generic byte edits."""
    data = base
    for _ in range(draw(st.integers(1, 4))):
        data = _edit(draw, data)
    return data


# --------------------------------------------------------------------------------------------
# PNG
# --------------------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    if crc is None:
        crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, data) chunks of a well-formed PNG (the fuzz bases are well-formed)."""
    chunks = []
    offset = len(PNG_SIGNATURE)
    while offset + 12 <= len(png):
        (length,) = struct.unpack_from(">I", png, offset)
        kind = png[offset + 4 : offset + 8]
        chunks.append((kind, png[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def _text_chunk(draw: Draw) -> tuple[bytes, bytes]:
    keyword = draw(st.sampled_from([OB3_PNG_KEYWORD, OB2_PNG_KEYWORD, b"Comment", b""]))
    text = draw(
        st.one_of(
            st.binary(max_size=256),
            st.just(b'{"@context":[],"type":"OpenBadgeCredential"}'),
            st.just(b"https://issuer.example/assertions/1"),
            st.just(b"eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2ln"),
        )
    )
    form = draw(st.sampled_from(["iTXt", "iTXt-zip", "iTXt-bomb", "iTXt-cut", "tEXt", "zTXt"]))
    if form == "iTXt":
        return b"iTXt", keyword + b"\x00\x00\x00\x00\x00" + text
    if form == "iTXt-zip":
        method = draw(st.sampled_from([0, 1, 8]))
        return b"iTXt", keyword + bytes([0, 1, method, 0, 0]) + zlib.compress(text)
    if form == "iTXt-bomb":  # 8 KiB that inflates past the 5 MiB cap
        return b"iTXt", keyword + b"\x00\x01\x00\x00\x00" + zlib.compress(b"{" * (6 << 20), 9)
    if form == "iTXt-cut":
        return b"iTXt", keyword + b"\x00" + draw(st.binary(max_size=3))
    if form == "tEXt":
        return b"tEXt", keyword + b"\x00" + text
    return b"zTXt", keyword + b"\x00\x00" + zlib.compress(text)


@st.composite
def png_mutated(draw: Draw, base: bytes) -> bytes:
    """``base`` (a baked PNG) with chunk-aware edits, then perhaps generic byte edits."""
    chunks = png_chunks(base)
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(chunks) - 1))
        kind = draw(
            st.sampled_from(
                ["duplicate", "drop", "move", "rewrite", "extra", "first", "after_iend"]
            )
        )
        if kind == "duplicate":
            chunks.insert(index, chunks[index])
        elif kind == "drop" and len(chunks) > 1:
            chunks.pop(index)
        elif kind == "move":
            chunks.insert(draw(st.integers(0, len(chunks) - 1)), chunks.pop(index))
        elif kind == "rewrite":  # new data, CRC made right: the reader gets past the CRC
            chunk_type, data = chunks[index]
            chunks[index] = (chunk_type, draw(mutated(data)) if data else b"\x00")
        elif kind == "extra":
            chunks.insert(draw(st.integers(1, len(chunks))), _text_chunk(draw))
        elif kind == "first":
            chunks.insert(0, _text_chunk(draw))
        else:
            chunks.append(_text_chunk(draw))
    body = [_chunk(kind, data) for kind, data in chunks]
    if draw(st.booleans()):  # a lying length or CRC on one chunk
        index = draw(st.integers(0, len(body) - 1))
        length = draw(st.sampled_from([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 20]))
        if draw(st.booleans()):
            body[index] = struct.pack(">I", length) + body[index][4:]
        else:
            body[index] = body[index][:-4] + struct.pack(">I", length)
    data = PNG_SIGNATURE + b"".join(body)
    if draw(st.booleans()):
        data = draw(mutated(data))
    return data


# --------------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------------

_LAUGHS = (
    b'<!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)
_PROLOGS = [
    _LAUGHS,
    b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE svg [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
    b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
    b'<?xml version="1.0" encoding="UTF-16"?>',
    b'<?xml version="1.0" encoding="ISO-8859-1"?>',
    b'<?xml version="1.0" encoding="x-bogus"?>',
    b'<?xml version="1.1"?>',
    b'<?xml-stylesheet href="http://127.0.0.1:9/x.xsl"?>',
    b"<!-- an unclosed comment",
    b"<!DOCTYPE svg [ <!ELEMENT svg ANY> ",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"<?",
    b"<!",
]
_INSIDE = [
    b"&d;",
    b"&x;",
    b"&#0;",
    b"&#xFFFF;",
    b"&unknown;",
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>',
    b'<openbadges:credential xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
    b"<![CDATA[{}]]></openbadges:credential>",
    b'<openbadges:credential xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"/>',
    b'<openbadges:assertion xmlns:openbadges="http://openbadges.org" verify="https://x.test/a"/>',
    b'<ob:credential xmlns:ob="https://purl.imsglobal.org/ob/v3p0" verify="a.b.c"></ob:credential>',
    b"<g>" * 5000 + b"</g>" * 5000,
    b"<g>" * 300,
    b"]]>",
    b"<![CDATA[",
    b'<a b="' + b"x" * 100_000 + b'"/>',
]


@st.composite
def svg_mutated(draw: Draw, base: bytes) -> bytes:
    """``base`` (a baked SVG) with XML tricks in its prolog or body, then perhaps byte edits."""
    data = base
    if draw(st.booleans()):
        data = draw(st.sampled_from(_PROLOGS)) + data
    if draw(st.booleans()):
        tag_end = data.find(b">", data.find(b"<svg")) + 1
        where = draw(st.sampled_from([tag_end, len(data) - len(b"</svg>"), len(data)]))
        data = data[:where] + draw(st.sampled_from(_INSIDE)) + data[where:]
    if draw(st.booleans()):
        data = data.replace(
            b"https://purl.imsglobal.org/ob/v3p0",
            draw(st.sampled_from([b"http://openbadges.org", b"", b"urn:x", b"&amp;"])),
            draw(st.integers(1, 2)),
        )
    if draw(st.booleans()) or data == base:
        data = draw(mutated(data))
    return data
