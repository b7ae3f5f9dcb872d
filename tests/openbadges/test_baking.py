"""Baking credentials into PNG/SVG and extracting them (research §3; OB 3.0 docformat
§Baked Badge; OB 2.0 baking). The 1EdTech validator's baked fixtures must read back, every
credential must survive a bake/extract round trip exactly, and hostile or broken images
must be refused with a clear error, never decoded."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from openbadges import baking

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "baked"


def png(width: int = 8, height: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#1f4e79").save(buffer, format="PNG")
    return buffer.getvalue()


SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" '
    b'height="10" fill="#123456"/></svg>\n'
)


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every PNG chunk, checking each CRC like a PNG decoder would."""
    found = []
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack_from(">I", data, offset + 8 + length)
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc
        found.append((kind, body))
        offset += 12 + length
    return found


CREDENTIAL: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "https://badges.example/credentials/1",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": "数据素养 Data literacy",
}


# --- the 1EdTech fixtures -------------------------------------------------------------------


def test_the_1edtech_baked_json_png_yields_its_credential() -> None:
    found = baking.extract((FIXTURES / "simple-json.png").read_bytes())

    assert found is not None
    assert (found.format, found.version, found.kind) == ("png", "ob3", "json")
    credential = found.json()
    assert credential["id"] == "http://example.com/credentials/3527"
    assert credential["name"] == "Teamwork Badge"
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"


def test_the_1edtech_baked_json_svg_yields_its_credential() -> None:
    found = baking.extract((FIXTURES / "simple-json.svg").read_bytes())

    assert found is not None
    assert (found.format, found.version, found.kind) == ("svg", "ob3", "json")
    assert found.json()["id"] == "http://example.com/credentials/3527"


@pytest.mark.parametrize("name", ["simple-jwt.png", "simple-jwt.svg"])
def test_the_1edtech_baked_jwt_images_yield_a_compact_jws(name: str) -> None:
    found = baking.extract((FIXTURES / name).read_bytes())

    assert found is not None
    assert found.version == "ob3"
    assert found.kind == "jws"
    payload = found.payload.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["jti"] == "http://example.com/credentials/3527"


def test_the_1edtech_ob2_baked_png_yields_its_assertion() -> None:
    found = baking.extract((FIXTURES / "ob20-simple-badge.png").read_bytes())

    assert found is not None
    assert (found.format, found.version, found.kind) == ("png", "ob2", "json")
    assert found.json()["type"] == "Assertion"


def test_rebaking_a_1edtech_image_replaces_its_credential_rather_than_adding_one() -> None:
    for name in ("simple-json.png", "simple-json.svg", "simple-jwt.svg"):
        rebaked = baking.bake((FIXTURES / name).read_bytes(), CREDENTIAL)

        found = baking.extract(rebaked)
        assert found is not None and found.json() == CREDENTIAL, name
        if name.endswith(".png"):
            keywords = [b.split(b"\0")[0] for k, b in chunks(rebaked) if k == b"iTXt"]
            assert keywords.count(b"openbadgecredential") == 1
        else:
            assert rebaked.count(b"<openbadges:credential") == 1


# --- PNG layout -----------------------------------------------------------------------------


def test_a_baked_png_has_one_uncompressed_itxt_right_after_ihdr_and_keeps_every_other_byte() -> (
    None
):
    original = png()
    baked = baking.bake_png(original, CREDENTIAL)

    found = chunks(baked)
    assert found[0][0] == b"IHDR"
    kind, body = found[1]
    assert kind == b"iTXt"
    # keyword NUL, compression flag 0, method 0, empty language NUL, empty translation NUL
    assert body.startswith(b"openbadgecredential\x00\x00\x00\x00\x00")
    assert json.loads(body[len(b"openbadgecredential") + 5 :]) == CREDENTIAL
    assert [c for c in found if c[0] != b"iTXt"] == chunks(original)
    with Image.open(io.BytesIO(baked)) as decoded:
        decoded.load()  # still a valid image that any viewer opens
        assert decoded.size == (8, 8)


def test_a_credential_string_is_baked_byte_for_byte() -> None:
    text = '{"b": 1,  "a": "spaced \\u00e9 as signed"}'

    baked = baking.bake_png(png(), text)

    found = baking.extract(baked)
    assert found is not None and found.payload == text
    assert text.encode() in baked


def test_an_ob2_bake_uses_the_openbadges_keyword() -> None:
    baked = baking.bake_png(png(), CREDENTIAL, version="ob2")

    found = baking.extract(baked)
    assert found is not None and found.version == "ob2"
    assert chunks(baked)[1][1].startswith(b"openbadges\x00\x00\x00\x00\x00")


def test_ob2_text_chunk_with_a_hosted_url_is_read() -> None:
    original = png()
    text = b"openbadges\x00https://issuer.example/assertions/1"
    chunk = struct.pack(">I", len(text)) + b"tEXt" + text
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + text) & 0xFFFFFFFF)
    legacy = original[:33] + chunk + original[33:]

    found = baking.extract(legacy)

    assert found is not None
    assert (found.version, found.kind, found.payload) == (
        "ob2",
        "url",
        "https://issuer.example/assertions/1",
    )


def test_a_compressed_itxt_is_read_but_cannot_inflate_past_the_cap() -> None:
    original = png()
    inflated = b"{" + b" " * (baking.MAX_INPUT_BYTES + 10) + b"}"
    body = b"openbadgecredential\x00\x01\x00\x00\x00" + zlib.compress(inflated, 9)
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body) & 0xFFFFFFFF)
    bomb = original[:33] + chunk + original[33:]
    assert len(bomb) < 100_000

    with pytest.raises(baking.ImageTooLarge):
        baking.extract(bomb)


def test_an_unbaked_image_carries_nothing() -> None:
    assert baking.extract(png()) is None
    assert baking.extract(SVG) is None


# --- refusals -------------------------------------------------------------------------------


def test_oversized_input_is_refused_before_parsing() -> None:
    huge = png() + b"\0" * baking.MAX_INPUT_BYTES

    with pytest.raises(baking.ImageTooLarge):
        baking.extract(huge)
    with pytest.raises(baking.ImageTooLarge):
        baking.bake_png(huge, CREDENTIAL)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe0 a jpeg",
        b"GIF89a....",
        b"",
        b"plain text",
    ],
)
def test_other_file_types_are_unsupported(data: bytes) -> None:
    with pytest.raises(baking.UnsupportedImage):
        baking.extract(data)


def test_a_truncated_png_is_malformed() -> None:
    with pytest.raises(baking.MalformedImage):
        baking.extract(png()[:40])
    with pytest.raises(baking.MalformedImage):
        baking.bake_png(png()[:40], CREDENTIAL)


def test_a_corrupted_credential_chunk_is_reported_not_trusted() -> None:
    baked = bytearray(baking.bake_png(png(), CREDENTIAL))
    baked[80] ^= 0x01  # inside the iTXt text (it starts at byte 65)

    with pytest.raises(baking.MalformedImage, match="CRC"):
        baking.extract(bytes(baked))


@pytest.mark.parametrize(
    "svg",
    [
        # XXE: an external entity would read a local file.
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
        # Billion laughs: entity expansion.
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg">&b;</svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><unclosed></svg>',
    ],
)
def test_hostile_or_broken_svg_is_refused(svg: bytes) -> None:
    with pytest.raises(baking.MalformedImage):
        baking.extract(svg)


def test_an_svg_with_text_xml_cannot_carry_is_refused_not_corrupted() -> None:
    with pytest.raises(baking.InvalidCredentialText):
        baking.bake_svg(SVG, '{"a": "\x01"}')


@pytest.mark.parametrize("char", ["\uffff", "\ufffe", "\ud800"])
def test_stored_json_with_text_xml_cannot_carry_is_baked_as_the_same_json(char: str) -> None:
    stored = '{"name": "Data' + char + ' Literacy", "n": 1}'

    baked = baking.bake_svg(SVG, stored)

    assert char.encode("utf-8", "surrogatepass") not in baked
    found = baking.extract(baked)  # parsed as XML 1.0 by defusedxml
    assert found is not None and found.json() == json.loads(stored)


# --- SVG layout -----------------------------------------------------------------------------


def test_a_baked_svg_declares_the_ob3_namespace_and_puts_the_credential_first() -> None:
    baked = baking.bake_svg(SVG, CREDENTIAL)

    text = baked.decode()
    assert 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in text
    assert "><openbadges:credential><![CDATA[" in text
    assert text.endswith('<rect width="10" height="10" fill="#123456"/></svg>\n')


def test_a_jws_goes_in_the_verify_attribute() -> None:
    jws = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"

    baked = baking.bake_svg(SVG, jws)

    assert f'<openbadges:credential verify="{jws}"></openbadges:credential>'.encode() in baked
    found = baking.extract(baked)
    assert found is not None and found.payload == jws and found.kind == "jws"


def test_a_prefix_bound_to_another_namespace_is_rebound_on_the_element() -> None:
    ob2_svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
        b"<rect/></svg>"
    )

    found = baking.extract(baking.bake_svg(ob2_svg, CREDENTIAL))

    assert found is not None and found.version == "ob3" and found.json() == CREDENTIAL


# --- round trips (property tests) ------------------------------------------------------------

HOSTILE = st.sampled_from(
    [
        "]]>",
        "</openbadges:credential>",
        "\x00",
        "\u202e\u2066\u200f",  # bidi overrides and marks
        "<![CDATA[",
        "&amp;<>\"'",
        "\ufffe\uffff",
        "数据 🎓",
    ]
)
TEXT = st.lists(st.one_of(st.text(max_size=30), HOSTILE), max_size=6).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)
CREDENTIALS = st.dictionaries(TEXT, JSON_VALUES, min_size=1, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credential=CREDENTIALS)
def test_every_credential_survives_png_baking(credential: dict[str, Any]) -> None:
    found = baking.extract(baking.bake_png(png(), credential))

    assert found is not None and found.json() == credential


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credential=CREDENTIALS)
def test_every_credential_survives_svg_baking(credential: dict[str, Any]) -> None:
    found = baking.extract(baking.bake_svg(SVG, credential))

    assert found is not None and found.json() == credential


@settings(max_examples=100, deadline=None)
@given(credential=CREDENTIALS)
def test_serialised_credential_text_round_trips_exactly(credential: dict[str, Any]) -> None:
    text = baking.credential_text(credential)

    for image in (png(), SVG):
        found = baking.extract(baking.bake(image, text))
        assert found is not None and found.payload == text


@pytest.mark.parametrize("image", [png(), SVG], ids=["png", "svg"])
def test_a_one_mebibyte_string_survives_baking(image: bytes) -> None:
    credential = {**CREDENTIAL, "description": ("数据]]>\u202e\x00" * 200_000)[: 1024 * 1024]}

    found = baking.extract(baking.bake(image, credential))

    assert found is not None and found.json() == credential


def test_a_png_with_two_credentials_is_refused() -> None:
    once = baking.bake_png(png(), '{"id": "urn:uuid:1"}')
    # Splice a second credential chunk in front of IEND by hand: bake_png itself never makes one.
    iend = once.rindex(b"IEND") - 4
    second = once[once.index(b"iTXtopenbadgecredential") - 4 :]
    second = second[: struct.unpack(">I", second[:4])[0] + 12]
    twice = once[:iend] + second + once[iend:]
    with pytest.raises(baking.MalformedImage, match="more than one credential"):
        baking.extract(twice)
