"""Generated images for sharing: the 1200x627 preview card (Open Graph / Twitter / LinkedIn),
the WeChat share card (QR plus title), a stand-in badge emblem, and QR codes.

Drawn with Pillow from the stored badge image (PNG; an SVG badge is not rasterised, the card
shows the emblem instead) and a CJK-capable font: Noto Sans CJK from Debian's
``fonts-noto-cjk`` (``INSIGNIA_CARD_FONT``/``INSIGNIA_CARD_FONT_BOLD`` override the paths).
Without one, Pillow's built-in font draws Latin text only.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import segno
from django.conf import settings
from django.core.cache import cache
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 627
INK = (26, 26, 26)
MUTED = (85, 85, 85)
WHITE = (255, 255, 255)
QR_SECONDS = 7 * 24 * 3600  # an award's QR never changes; kept a week after its last draw

FONT_CANDIDATES: dict[bool, Sequence[tuple[str, int]]] = {
    # (path, index in a TrueType collection): index 2 of Noto Sans CJK is Simplified Chinese.
    True: (
        ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
        ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 0),
    ),
    False: (
        ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
        ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
    ),
}

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> Font:
    """A CJK-capable font at ``size`` px (cached), falling back to Pillow's built-in font."""
    configured = settings.INSIGNIA_CARD_FONT_BOLD if bold else settings.INSIGNIA_CARD_FONT
    candidates = [(configured, 0)] if configured else []
    for path, index in [*candidates, *FONT_CANDIDATES[bold]]:
        if path and Path(path).exists():
            return ImageFont.truetype(path, size, index=index)
    return ImageFont.load_default(size)


def rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    try:
        return (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))
    except (ValueError, IndexError):
        return (31, 78, 121)


def hex_colour(rgb_value: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb_value)


def _text_width(draw: ImageDraw.ImageDraw, text: str, face: Font) -> float:
    return draw.textlength(text, font=face)


def wrap(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int, lines: int) -> list[str]:
    """Greedy line breaking that works for both spaced (Latin) and unspaced (CJK) text."""
    result: list[str] = []
    current = ""
    for char in " ".join(text.split()):
        candidate = current + char
        if _text_width(draw, candidate, face) <= width or not current:
            current = candidate
            continue
        # Break at the last space if the line has one and the word is Latin.
        space = current.rfind(" ")
        if space > 0 and char != " " and current[-1] != " " and char.isascii():
            result.append(current[:space])
            current = current[space + 1 :] + char
        else:
            result.append(current.rstrip())
            current = char.lstrip()
        if len(result) == lines:
            break
    if current and len(result) < lines:
        result.append(current)
    elif len(result) == lines and current:
        last = result[-1]
        while last and _text_width(draw, last + "…", face) > width:
            last = last[:-1]
        result[-1] = last.rstrip() + "…"
    return result


def qr_image(url: str, size: int) -> Image.Image:
    """A QR code for ``url`` (error correction M, quiet zone 2) as a ``size``x``size`` image."""
    code = _qr_code(url)
    rows = [list(row) for row in code.matrix_iter(scale=1, border=2)]
    modules = len(rows)
    image = Image.new("L", (modules, modules))
    image.putdata([0 if dark else 255 for row in rows for dark in row])
    return image.resize((size, size), Image.Resampling.NEAREST).convert("RGB")


@lru_cache(maxsize=256)
def _qr_code(url: str) -> segno.QRCode:
    # Encoding, most of it choosing the mask, is about 5 ms: done once per URL and process.
    return segno.make(url, error="m")


@lru_cache(maxsize=1024)
def qr_svg_document(url: str) -> bytes:
    """A QR code of ``url`` as a standalone SVG file (dark on light), for an ``<img>``.

    The badge page links to it instead of inlining it: choosing the QR's mask is most of a
    first view's CPU, and a reader's browser asks for the image only when it scrolls to it
    (``loading="lazy"``). Drawn once per URL, kept per process and in the shared cache; the
    response is cacheable by any browser or CDN (an award's URL never changes)."""
    key = "qr-svg-doc:" + hashlib.sha256(url.encode("utf-8")).hexdigest()
    try:
        found = cache.get(key)
    except Exception:  # the cache backend's own errors: draw it instead
        found = None
    if isinstance(found, bytes):
        return found
    out = io.BytesIO()
    _qr_code(url).save(
        out, kind="svg", scale=4, border=2, dark="#111111", light="#ffffff", xmldecl=False
    )
    drawn = out.getvalue()
    with contextlib.suppress(Exception):  # as above: the drawing matters, not keeping it
        cache.set(key, drawn, QR_SECONDS)
    return drawn


def emblem(title: str, colour: str, size: int = 400) -> Image.Image:
    """A stand-in badge: a brand-coloured rosette with the title's first character."""
    scale = 4
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    fill = rgb(colour)
    draw.ellipse((0, 0, big - 1, big - 1), fill=fill)
    ring = big // 14
    draw.ellipse((ring, ring, big - ring, big - ring), outline=WHITE, width=big // 40)
    letter = (title.strip()[:1] or "★").upper()
    face = font(big // 2, bold=True)
    draw.text((big / 2, big / 2), letter, font=face, fill=WHITE, anchor="mm")
    return image.resize((size, size), Image.Resampling.LANCZOS)


def emblem_png(title: str, colour: str, size: int = 400) -> bytes:
    buffer = io.BytesIO()
    emblem(title, colour, size).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _badge_picture(image_png: bytes | None, title: str, colour: str, size: int) -> Image.Image:
    if image_png:
        try:
            with Image.open(io.BytesIO(image_png)) as opened:
                picture = opened.convert("RGBA")
            picture.thumbnail((size, size), Image.Resampling.LANCZOS)
            return picture
        except (OSError, ValueError):
            pass
    return emblem(title, colour, size)


@dataclass(frozen=True)
class Card:
    """What a card shows; texts are already in the reader's language."""

    title: str
    label: str
    lines: Sequence[str]
    footer: str
    url: str
    colour: str
    image_png: bytes | None = None


def card_png(card: Card) -> bytes:
    """The 1200x627 preview card (1.91:1, the size LinkedIn, Facebook and X use)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    draw = ImageDraw.Draw(image)
    brand = rgb(card.colour)
    panel = 440
    draw.rectangle((0, 0, panel, HEIGHT), fill=brand)
    draw.rectangle((panel, HEIGHT - 14, WIDTH, HEIGHT), fill=brand)
    # The badge on a white disc, centred in the brand panel.
    disc = 340
    left, top = (panel - disc) // 2, (HEIGHT - disc) // 2
    draw.ellipse((left - 6, top - 6, left + disc + 6, top + disc + 6), fill=WHITE)
    picture = _badge_picture(card.image_png, card.title, card.colour, disc - 40)
    image.paste(
        picture,
        (left + (disc - picture.width) // 2, top + (disc - picture.height) // 2),
        picture,
    )
    x, right = panel + 60, WIDTH - 60
    y = 64
    draw.text((x, y), card.label.upper(), font=font(24, bold=True), fill=brand_text(brand))
    y += 54
    title_face = font(54, bold=True)
    for line in wrap(draw, card.title, title_face, right - x, 3):
        draw.text((x, y), line, font=title_face, fill=INK)
        y += 70
    y += 16
    body = font(30)
    qr_size = 150
    for text in card.lines:
        for line in wrap(draw, text, body, right - x - (qr_size + 20 if y > 380 else 0), 1):
            draw.text((x, y), line, font=body, fill=MUTED)
            y += 44
    image.paste(qr_image(card.url, qr_size), (right - qr_size, HEIGHT - qr_size - 40))
    footer_face = font(24)
    footer = wrap(draw, card.footer, footer_face, right - x - qr_size - 24, 1)
    if footer:
        draw.text((x, HEIGHT - 80), footer[0], font=footer_face, fill=MUTED)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def brand_text(brand: tuple[int, int, int]) -> tuple[int, int, int]:
    """The brand colour for text on white if it is dark enough (WCAG 4.5:1), else ink."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in brand)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return brand if (1.05 / (luminance + 0.05)) >= 4.5 else INK


def wechat_png(card: Card, caption: str) -> bytes:
    """The WeChat share card (750x1000): title, issuer, and a large QR code to scan."""
    width, height = 750, 1000
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    brand = rgb(card.colour)
    draw.rectangle((0, 0, width, 220), fill=brand)
    picture = _badge_picture(card.image_png, card.title, card.colour, 180)
    draw.ellipse((width // 2 - 110, 110, width // 2 + 110, 330), fill=WHITE)
    image.paste(picture, (width // 2 - picture.width // 2, 220 - picture.height // 2), picture)
    y = 360
    title_face = font(44, bold=True)
    for line in wrap(draw, card.title, title_face, width - 100, 2):
        draw.text((width / 2, y), line, font=title_face, fill=INK, anchor="mt")
        y += 58
    body = font(28)
    for text in card.lines[:2]:
        for line in wrap(draw, text, body, width - 100, 1):
            draw.text((width / 2, y), line, font=body, fill=MUTED, anchor="mt")
            y += 40
    qr = 340
    image.paste(qr_image(card.url, qr), ((width - qr) // 2, height - qr - 90))
    draw.text((width / 2, height - 60), caption, font=font(28, bold=True), fill=INK, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
