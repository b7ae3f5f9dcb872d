"""An uploaded SVG is rebuilt from an allow-list: nothing that runs code or fetches anything
survives (research/security-reliability.md, SVG uploads; DESIGN.md §9)."""

from __future__ import annotations

import pytest

from openbadges import baking, svg

HEAD = b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '


@pytest.mark.parametrize(
    ("payload", "gone"),
    [
        (b'width="10" height="10"><script>alert(1)</script><rect/></svg>', b"alert"),
        (b'width="10" height="10" onload="alert(1)"><rect/></svg>', b"onload"),
        (b'width="10" height="10"><rect onclick="alert(1)" onmouseover="x()"/></svg>', b"alert"),
        (
            b'width="10" height="10"><foreignObject><iframe src="https://evil.example"/>'
            b"</foreignObject></svg>",
            b"evil",
        ),
        (b'width="10" height="10"><a href="javascript:alert(1)"><rect/></a></svg>', b"javascript"),
        (
            b'width="10" height="10"><a xlink:href="jav&#x09;ascript:alert(1)"><rect/></a></svg>',
            b"ascript",
        ),
        (b'width="10" height="10"><image href="https://tracker.example/p.png"/></svg>', b"tracker"),
        (b'width="10" height="10"><use href="https://evil.example/s.svg#x"/></svg>', b"evil"),
        (b'width="10" height="10"><rect style="fill:url(https://evil.example/x)"/></svg>', b"evil"),
        (
            b'width="10" height="10"><style>@import url(https://evil.example/a.css);</style></svg>',
            b"evil",
        ),
        (
            b'width="10" height="10"><rect><set attributeName="href" to="javascript:alert(1)"/>'
            b"</rect></svg>",
            b"javascript",
        ),
        (
            b'width="10" height="10"><image href="data:image/svg+xml;base64,PHN2Zz4="/></svg>',
            b"data:image/svg",
        ),
    ],
)
def test_active_or_external_content_is_removed(payload: bytes, gone: bytes) -> None:
    cleaned = svg.sanitize(HEAD + payload)

    assert gone not in cleaned.data
    assert b"<script" not in cleaned.data
    assert baking.extract(cleaned.data) is None  # still a well-formed SVG


def test_drawing_survives_with_its_size() -> None:
    source = (
        HEAD + b'viewBox="0 0 200 100" width="400"><defs><linearGradient id="g"><stop offset="0" '
        b'stop-color="#fff"/></linearGradient></defs><rect width="200" height="100" '
        b'fill="url(#g)"/><text x="10" y="50" font-size="20">\xe6\x95\xb0\xe6\x8d\xae &amp; co'
        b"</text></svg>"
    )

    cleaned = svg.sanitize(source)

    assert (cleaned.width, cleaned.height) == (400, 200)
    assert b'fill="url(#g)"' in cleaned.data
    assert "数据 &amp; co".encode() in cleaned.data
    assert b"<linearGradient" in cleaned.data


def test_inline_png_data_images_are_kept() -> None:
    data_url = b"data:image/png;base64,iVBORw0KGgo="
    cleaned = svg.sanitize(HEAD + b'width="1" height="1"><image href="' + data_url + b'"/></svg>')

    assert data_url in cleaned.data


def test_a_previously_baked_credential_does_not_survive_an_upload() -> None:
    baked = baking.bake_svg(HEAD + b'width="1" height="1"><rect/></svg>', {"id": "x"})

    assert baking.extract(svg.sanitize(baked).data) is None


@pytest.mark.parametrize(
    "source",
    [
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
        b'<html xmlns="http://www.w3.org/1999/xhtml"><script>x</script></html>',
        b"not xml at all",
    ],
)
def test_what_cannot_be_made_safe_is_refused(source: bytes) -> None:
    with pytest.raises(svg.UnsafeSvg):
        svg.sanitize(source)
