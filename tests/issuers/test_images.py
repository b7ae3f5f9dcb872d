"""Logo and issuer-image uploads: only real PNG/JPEG within byte and pixel caps get in."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from PIL import Image as PILImage

from issuers.images import check_image
from tests.base import png_bytes


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (10, 10), "red").save(buffer, format="JPEG")
    return buffer.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a size; the pixel data is tiny (a decompression bomb shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def test_png_and_jpeg_are_accepted_as_they_are() -> None:
    png = png_bytes(32, 16)
    checked = check_image(png)
    assert (checked.content_type, checked.width, checked.height) == ("image/png", 32, 16)
    assert checked.data == png
    assert check_image(_jpeg()).content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "not a readable PNG or JPEG"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "not a readable",
        ),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not a readable"),
        (_png_header_only(100_000, 100_000), "pixels per side"),
    ],
)
def test_bad_images_are_refused_with_a_clear_reason(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_image(data)
    assert message in " ".join(caught.value.messages)


def test_a_gif_is_refused_as_a_type_the_platform_does_not_take() -> None:
    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 4)).save(buffer, format="GIF")
    with pytest.raises(ValidationError) as caught:
        check_image(buffer.getvalue())
    assert caught.value.code == "bad_type"


@override_settings(INSIGNIA_MAX_IMAGE_BYTES=1024)
def test_an_image_over_the_byte_cap_is_refused_before_it_is_read() -> None:
    with pytest.raises(ValidationError) as caught:
        check_image(png_bytes(600, 600, "#123456") + b"\0" * 2048)
    assert caught.value.code == "too_large"
