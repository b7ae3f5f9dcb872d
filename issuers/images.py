"""Checks for uploaded logos and issuer images: type by content, byte and pixel caps.

Pillow reads only the header to learn the format and size, so an oversized or
decompression-bomb image is refused before any pixel is decoded. Badge images (``badge``)
must be PNG or SVG, the two formats a credential can be baked into. An SVG is parsed with
defusedxml and rebuilt from an allow-list (``openbadges.svg``); what is stored and served is
the rebuilt document, never the upload.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from openbadges import baking, svg

ALLOWED_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
SVG_TYPE = "image/svg+xml"


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str


def _check_svg(data: bytes, max_side: int) -> CheckedImage:
    try:
        cleaned = svg.sanitize(data)
    except svg.UnsafeSvg:
        raise ValidationError(
            _("This SVG cannot be used: it is not a well-formed, self-contained SVG image."),
            code="unsafe_svg",
        ) from None
    if cleaned.width is None or cleaned.height is None or cleaned.width <= 0:
        raise ValidationError(
            _("The SVG must declare its size (width and height, or a viewBox)."),
            code="svg_size",
        )
    width, height = math.ceil(cleaned.width), math.ceil(cleaned.height or 0)
    if width > max_side or height > max_side or height <= 0:
        raise ValidationError(
            _("The image is %(w)s×%(h)s pixels; the limit is %(limit)s pixels per side.")
            % {"w": width, "h": height, "limit": max_side},
            code="too_many_pixels",
        )
    return CheckedImage(
        data=cleaned.data,
        content_type=SVG_TYPE,
        width=width,
        height=height,
        sha256=hashlib.sha256(cleaned.data).hexdigest(),
    )


def check_image(data: bytes, *, badge: bool = False) -> CheckedImage:
    """Validate an uploaded image or raise ``ValidationError`` with a message for the user.

    Logos: PNG or JPEG. Badge images (``badge``): PNG or SVG, an SVG returned sanitized.
    """
    max_bytes: int = settings.INSIGNIA_MAX_IMAGE_BYTES
    max_side: int = settings.INSIGNIA_MAX_IMAGE_PIXELS
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    if len(data) > max_bytes:
        raise ValidationError(
            _("The image is %(size)s KB; the limit is %(limit)s KB.")
            % {"size": (len(data) + 1023) // 1024, "limit": max_bytes // 1024},
            code="too_large",
        )
    if badge and baking.image_format(data) == "svg":
        return _check_svg(data, max_side)
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            width, height = image.size
            if fmt not in ALLOWED_FORMATS or (badge and fmt != "PNG"):
                raise ValidationError(
                    _("Upload a PNG or SVG image.") if badge else _("Upload a PNG or JPEG image."),
                    code="bad_type",
                )
            if width > max_side or height > max_side:
                raise ValidationError(
                    _("The image is %(w)s×%(h)s pixels; the limit is %(limit)s pixels per side.")
                    % {"w": width, "h": height, "limit": max_side},
                    code="too_many_pixels",
                )
            image.verify()
    except ValidationError:
        raise
    except PILImage.DecompressionBombError:
        # Pillow refuses to open images far beyond any sane size; say so in the same words.
        raise ValidationError(
            _("The image has too many pixels; the limit is %(limit)s pixels per side.")
            % {"limit": max_side},
            code="too_many_pixels",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            _("This file is not a readable PNG or SVG image.")
            if badge
            else _("This file is not a readable PNG or JPEG image."),
            code="unreadable",
        ) from None
    return CheckedImage(
        data=data,
        content_type=ALLOWED_FORMATS[fmt],
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )
