"""Checks for uploaded logos and issuer images: type by content, byte and pixel caps.

Pillow reads only the header to learn the format and size, so an oversized or
decompression-bomb image is refused before any pixel is decoded.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

ALLOWED_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str


def check_image(data: bytes) -> CheckedImage:
    """Validate an uploaded image or raise ``ValidationError`` with a message for the user."""
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
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            width, height = image.size
            if fmt not in ALLOWED_FORMATS:
                raise ValidationError(_("Upload a PNG or JPEG image."), code="bad_type")
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
            _("This file is not a readable PNG or JPEG image."), code="unreadable"
        ) from None
    return CheckedImage(
        data=data,
        content_type=ALLOWED_FORMATS[fmt],
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )
