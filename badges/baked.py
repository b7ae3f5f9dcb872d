"""Baked badge images of an award, made on request by splicing (``openbadges.baking``).

The source is the achievement version's stored image: a PNG is baked as it is; an SVG is
baked as it is (it was sanitized on upload). The other format is made by wrapping: a PNG goes
into a minimal SVG as a ``data:`` image, and an SVG badge gets a PNG emblem. A version without
an image gets a generated emblem in the institution's colour. The credential text baked in
is the award's stored, signed ``credential_json``, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from django.http import HttpResponse

from badges import preview
from badges.models import Award
from issuers.models import Image
from openbadges import baking

Format = Literal["png", "svg"]
CONTENT_TYPES: dict[Format, str] = {"png": "image/png", "svg": "image/svg+xml"}
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
IMAGE_CACHE = "public, max-age=86400"


@dataclass(frozen=True)
class Source:
    data: bytes
    format: Format
    sha256: str


@lru_cache(maxsize=64)
def emblem_png(title: str, colour: str) -> bytes:
    """The generated stand-in badge (400x400 PNG) for a version without an image."""
    return preview.emblem_png(title, colour, 400)


def _wrap_png_in_svg(png: bytes, width: int, height: int) -> bytes:
    encoded = base64.b64encode(png).decode("ascii")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><image width="{width}" height="{height}" '
        f'href="data:image/png;base64,{encoded}"/></svg>\n'
    ).encode("ascii")


def _source(data: bytes) -> Source:
    fmt = baking.image_format(data)
    assert fmt is not None  # noqa: S101 - only our own PNG/SVG bytes get here
    return Source(data, fmt, hashlib.sha256(data).hexdigest())


def source_image(award: Award, fmt: Format) -> Source:
    """The unbaked image to bake into, in ``fmt``."""
    version = award.achievement_version
    image: Image | None = version.image
    title = version.text("name", award.language) or version.name
    colour = award.issuer.institution.brand_colour
    if image is not None and image.content_type == CONTENT_TYPES[fmt]:
        return Source(bytes(image.data), fmt, image.sha256)
    if image is not None and image.content_type == "image/png" and fmt == "svg":
        return _source(_wrap_png_in_svg(bytes(image.data), image.width, image.height))
    png = emblem_png(title, colour)
    return _source(png if fmt == "png" else _wrap_png_in_svg(png, 400, 400))


def baked(award: Award, fmt: Format, payload: str | None = None, ob2: bool = False) -> bytes:
    """The award's badge image in ``fmt`` with its credential (or ``payload``) baked in."""
    source = source_image(award, fmt)
    text = award.credential_json if payload is None else payload
    version: baking.Version = "ob2" if ob2 else "ob3"
    if fmt == "png":
        return baking.bake_png(source.data, text, version=version)
    return baking.bake_svg(source.data, text, version=version)


def etag(award: Award, fmt: Format, extra: str = "") -> str:
    """Changes when the source image or the baked text would: the credential never does."""
    source = source_image(award, fmt)
    digest = hashlib.sha256(
        f"{award.pk}|{source.sha256}|{fmt}|{extra}".encode()
        + hashlib.sha256(award.credential_json.encode("utf-8")).digest()
    ).hexdigest()
    return f'"{digest[:32]}"'


def image_response(data: bytes, fmt: Format, etag: str, filename: str) -> HttpResponse:
    """A baked image as served: cacheable, readable from any origin, an SVG sandboxed."""
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["ETag"] = etag
    response["Cache-Control"] = IMAGE_CACHE
    response["X-Content-Type-Options"] = "nosniff"
    response["Access-Control-Allow-Origin"] = "*"
    response["Content-Disposition"] = f'inline; filename="{filename}.{fmt}"'
    if fmt == "svg":
        response["Content-Security-Policy"] = SVG_CSP
    return response
