"""Baked images on the verify path, and S-10 (PNG) / S-11 (SVG) hostile images.

Images are read by ``openbadges.baking.extract`` (a chunk walker and defusedxml, never pixel
decoding); every hostile image must be rejected as "nothing to verify", quickly (the times
are printed, not asserted).
"""

from __future__ import annotations

import struct
import time
import zlib

import pytest

from badges.models import Award
from openbadges import baking
from tests.badges.helpers import award, make_published
from tests.base import Cast, png_bytes
from verification import pipeline
from verification.report import Report, Verdict

pytestmark = pytest.mark.django_db

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10"/></svg>'
)


def _chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    value = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", value)


def _png(*chunks: bytes, width: int = 1, height: int = 1) -> bytes:
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return baking.PNG_SIGNATURE + ihdr + b"".join(chunks) + _chunk(b"IEND", b"")


def _itxt(text: bytes, compressed: bool = False) -> bytes:
    body = zlib.compress(text, 9) if compressed else text
    flag = b"\x01\x00" if compressed else b"\x00\x00"
    return _chunk(b"iTXt", b"openbadgecredential\x00" + flag + b"\x00\x00" + body)


def _verify_upload(data: bytes) -> tuple[Report, float]:
    started = time.perf_counter()
    report = pipeline.verify(pipeline.VerifyRequest(upload=data, filename="badge"))
    return report, time.perf_counter() - started


def _demo(cast: Cast) -> Award:
    return award(cast.awarder, make_published(cast.owner, cast.issuer))


def test_a_baked_png_of_our_badge_is_valid(cast: Cast) -> None:
    given = _demo(cast)
    report, _ = _verify_upload(baking.bake_png(png_bytes(), given.credential_json))
    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.input_kind == "png"


def test_a_baked_svg_of_our_badge_is_valid(cast: Cast) -> None:
    given = _demo(cast)
    report, _ = _verify_upload(baking.bake_svg(SVG, given.credential_json))
    assert report.verdict is Verdict.VALID, report.as_json()


def test_an_image_without_a_badge_says_so(cast: Cast) -> None:
    report, _ = _verify_upload(png_bytes())
    assert report.verdict is Verdict.BAD_INPUT
    assert report.checks[0].code == "no_credential"


def test_hostile_pngs_are_all_rejected(cast: Cast) -> None:
    """S-10."""
    credential = _demo(cast).credential_json.encode()
    cases = {
        "compressed iTXt bomb (200 MiB)": _png(_itxt(b" " * (200 * 1024 * 1024), compressed=True)),
        "30 MiB uncompressed iTXt": _png(_itxt(b"x" * (30 * 1024 * 1024))),
        "declared length 2^31-1": baking.PNG_SIGNATURE
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + struct.pack(">I", 2**31 - 1)
        + b"iTXt"
        + b"openbadgecredential\x00",
        "bad CRC": _png(
            _chunk(b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00" + credential, crc=1)
        ),
        "10,000 chunks": _png(*[_chunk(b"tEXt", b"k\x00v")] * 10_000),
        "truncated": _png(_itxt(credential))[:-40],
        "two openbadgecredential chunks": _png(_itxt(credential), _itxt(credential)),
        "50,000 x 50,000 IHDR, no badge": _png(width=50_000, height=50_000),
        "JPEG disguised as PNG": b"\xff\xd8\xff\xe0" + b"\x00" * 1000,
        "FITS disguised as PNG": b"SIMPLE  =                    T" + b" " * 2850,
        "6 MiB upload": png_bytes() + b"\x00" * (6 * 1024 * 1024),
        "credential text over 1 MiB": _png(_itxt(b"{" + b" " * (1024 * 1024 + 10) + b"}")),
    }
    worst = 0.0
    for name, data in cases.items():
        report, seconds = _verify_upload(data)
        worst = max(worst, seconds)
        assert report.verdict is Verdict.BAD_INPUT, (name, report.as_json())
    print(  # noqa: T201 - the issue asks for the figures
        f"\nS-10 PNG corpus: {len(cases)}/{len(cases)} rejected, worst {worst:.3f} s"
    )


def test_hostile_svgs_are_all_rejected(cast: Cast) -> None:
    """S-11: no entity expansion, no file read, no network."""
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9)
        )
        + b']><svg xmlns="http://www.w3.org/2000/svg">&j;</svg>'
    )
    cases = {
        "billion laughs": laughs,
        "quadratic blowup": b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "'
        + b"x" * 50_000
        + b'">]><svg xmlns="http://www.w3.org/2000/svg">'
        + b"&a;" * 2_000
        + b"</svg>",
        "XXE file": b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><openbadges:credential xmlns:openbadges='
        b'"https://purl.imsglobal.org/ob/v3p0">&x;</openbadges:credential></svg>',
        "XXE http": b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "http://127.0.0.1/">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
        "external DTD": b'<?xml version="1.0"?><!DOCTYPE svg SYSTEM "http://127.0.0.1/x.dtd">'
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
        "XInclude": b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xi="http://www.w3.org/2001/XInclude">'
        b'<xi:include href="file:///etc/passwd" parse="text"/></svg>',
        "10,000-deep nesting": b'<svg xmlns="http://www.w3.org/2000/svg">'
        + b"<g>" * 10_000
        + b"</g>" * 10_000
        + b"</svg>",
        "5 MiB+ SVG": b'<svg xmlns="http://www.w3.org/2000/svg">'
        + b" " * (5 * 1024 * 1024)
        + b"</svg>",
    }
    worst = 0.0
    for name, data in cases.items():
        report, seconds = _verify_upload(data)
        worst = max(worst, seconds)
        assert report.verdict is Verdict.BAD_INPUT, (name, report.as_json())
        assert "root:" not in str(report.as_json())
    print(  # noqa: T201 - the issue asks for the figures
        f"\nS-11 SVG corpus: {len(cases)}/{len(cases)} rejected, worst {worst:.3f} s"
    )
