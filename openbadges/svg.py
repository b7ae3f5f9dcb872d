"""Reduce an uploaded SVG to a safe allow-list before it is stored or served.

research/security-reliability.md (SVG uploads), DESIGN.md §9: the SVG is parsed with
``defusedxml`` (no DTD entities, no external references), then rebuilt from scratch keeping
only drawing elements and presentation attributes. Everything that can run code or fetch
something is dropped: ``<script>``, event handlers (``on*``), ``<foreignObject>``, animation
elements (they can rewrite ``href``), ``<iframe>``/``<embed>``/``<object>``, references other
than same-document ``#fragment``s and inline PNG/JPEG ``data:`` URLs, ``javascript:`` anywhere,
and CSS that imports or points outside the document. ``<a>`` is kept as a plain group.

The output is a fresh UTF-8 document; comments, processing instructions, DOCTYPE and unknown
namespaces (including earlier Open Badges credentials) do not survive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

SVG_NS: Final = "http://www.w3.org/2000/svg"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"

MAX_ELEMENTS: Final = 20_000
MAX_DEPTH: Final = 64

_ELEMENT_NAMES = """
    svg g defs title desc symbol use path rect circle ellipse line polyline polygon text tspan
    textPath linearGradient radialGradient stop clipPath mask pattern marker image style filter
    feBlend feColorMatrix feComponentTransfer feComposite feDropShadow feFlood feFuncA feFuncB
    feFuncG feFuncR feGaussianBlur feMerge feMergeNode feMorphology feOffset switch"""
ELEMENTS: Final = frozenset(_ELEMENT_NAMES.split())
# Kept as <g>: their children are drawing, their own behaviour (a link) is not wanted.
UNWRAP: Final = frozenset({"a"})

_ATTRIBUTE_NAMES = """
    id class style x y x1 x2 y1 y2 cx cy r rx ry fx fy fr width height d points transform
    viewBox preserveAspectRatio version fill fill-opacity fill-rule stroke stroke-width
    stroke-linecap stroke-linejoin stroke-miterlimit stroke-dasharray stroke-dashoffset
    stroke-opacity opacity font-family font-size font-weight font-style font-variant
    text-anchor dominant-baseline alignment-baseline baseline-shift letter-spacing word-spacing
    text-decoration dx dy rotate textLength lengthAdjust startOffset offset stop-color
    stop-opacity gradientUnits gradientTransform spreadMethod clip-path clip-rule clipPathUnits
    mask maskUnits maskContentUnits patternUnits patternContentUnits patternTransform filter
    filterUnits primitiveUnits in in2 result stdDeviation mode operator k1 k2 k3 k4 values type
    tableValues slope intercept amplitude exponent radius flood-color flood-opacity visibility
    display color marker-start marker-mid marker-end markerWidth markerHeight refX refY orient
    markerUnits overflow vector-effect shape-rendering text-rendering image-rendering
    color-interpolation color-interpolation-filters paint-order direction unicode-bidi
    writing-mode enable-background role aria-label aria-labelledby aria-hidden focusable
    lang href media"""
ATTRIBUTES: Final = frozenset(_ATTRIBUTE_NAMES.split())
XML_ATTRIBUTES: Final = frozenset({"space", "lang"})

_LOCAL_REF = re.compile(r"^#[A-Za-z_][\w.:-]*$")
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|jpg);base64,[A-Za-z0-9+/=\s]+$")
_URL_FUNCTION = re.compile(r"url\s*\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_DANGEROUS_CSS = re.compile(
    r"@import|expression\s*\(|javascript:|vbscript:|behavior\s*:|-moz-binding|\\",
    re.IGNORECASE,
)
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(px)?\s*$")


class UnsafeSvg(ValueError):
    """An SVG that cannot be made safe (not XML, entities, not an SVG, too big)."""


@dataclass(frozen=True, slots=True)
class SanitizedSvg:
    """The rebuilt document and its intrinsic size in CSS pixels (``None`` if undeclared)."""

    data: bytes
    width: float | None
    height: float | None
    removed: tuple[str, ...]


def _local(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return "", name


def _safe_css(value: str) -> bool:
    """CSS may only point inside the document (``url(#id)``) and must not import or run."""
    if _DANGEROUS_CSS.search(value):
        return False
    return all(_LOCAL_REF.match(target.strip()) for _, target in _URL_FUNCTION.findall(value))


def _safe_reference(value: str) -> bool:
    stripped = value.strip()
    return bool(_LOCAL_REF.match(stripped) or _DATA_IMAGE.match(stripped))


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(text: str) -> str:
    return (
        _escape_text(text)
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


class _Writer:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.removed: set[str] = set()
        self.count = 0

    def attributes(self, element: Element, local: str) -> list[tuple[str, str]]:
        kept: list[tuple[str, str]] = []
        for name, value in element.attrib.items():
            namespace, attribute = _local(name)
            if namespace == XLINK_NS and attribute == "href":
                output = "xlink:href"
            elif namespace == XML_NS and attribute in XML_ATTRIBUTES:
                output = f"xml:{attribute}"
            elif namespace == "" and attribute in ATTRIBUTES:
                output = attribute
            else:
                self.removed.add(f"@{attribute}")
                continue
            if "javascript:" in re.sub(r"[\s\x00-\x1f]", "", value).lower():
                self.removed.add(f"@{attribute}")
                continue
            if attribute == "href" and not _safe_reference(value):
                self.removed.add("@href")
                continue
            if (attribute == "style" or "url(" in value.lower()) and not _safe_css(value):
                self.removed.add(f"@{attribute}")
                continue
            if local == "style" and attribute == "media" and not _safe_css(value):
                continue
            kept.append((output, value))
        return kept

    def element(self, element: Element, depth: int, root: bool = False) -> None:
        namespace, local = _local(element.tag)
        if depth > MAX_DEPTH:
            raise UnsafeSvg("The SVG is nested too deeply.")
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise UnsafeSvg("The SVG has too many elements.")
        if namespace not in (SVG_NS, "") or (local not in ELEMENTS and local not in UNWRAP):
            self.removed.add(local)
            return
        if local == "style" and not _safe_css(element.text or ""):
            self.removed.add("style")
            return
        tag = "g" if local in UNWRAP else local
        attributes = self.attributes(element, local)
        if local in UNWRAP:
            attributes = [(n, v) for n, v in attributes if n not in ("href", "xlink:href")]
        head = [tag]
        if root:
            head += [f'xmlns="{SVG_NS}"', f'xmlns:xlink="{XLINK_NS}"']
        head += [f'{name}="{_escape_attribute(value)}"' for name, value in attributes]
        self.parts.append("<" + " ".join(head) + ">")
        if element.text:
            self.parts.append(_escape_text(element.text))
        for child in element:
            self.element(child, depth + 1)
            if child.tail:
                self.parts.append(_escape_text(child.tail))
        self.parts.append(f"</{tag}>")


def _size(value: str | None) -> float | None:
    if value is None:
        return None
    match = _SIZE.match(value)
    return float(match.group(1)) if match else None


def sanitize(data: bytes) -> SanitizedSvg:
    """Parse ``data`` safely and rebuild it from the allow-list; raises :class:`UnsafeSvg`."""
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException:
        raise UnsafeSvg("The SVG declares entities or external references.") from None
    except ParseError:
        raise UnsafeSvg("The SVG is not well-formed XML.") from None
    namespace, local = _local(root.tag)
    if local != "svg" or namespace not in (SVG_NS, ""):
        raise UnsafeSvg("The file is XML but not an SVG image.")
    writer = _Writer()
    writer.element(root, 0, root=True)
    width, height = _size(root.get("width")), _size(root.get("height"))
    view_box = (root.get("viewBox") or "").replace(",", " ").split()
    if (width is None or height is None) and len(view_box) == 4:
        try:
            box_width, box_height = float(view_box[2]), float(view_box[3])
        except ValueError:
            box_width = box_height = 0.0
        if box_width > 0 and box_height > 0:
            if width is None and height is None:
                width, height = box_width, box_height
            elif width is None and height is not None:
                width = height * box_width / box_height
            elif height is None and width is not None:
                height = width * box_height / box_width
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + "".join(writer.parts) + "\n"
    return SanitizedSvg(text.encode("utf-8"), width, height, tuple(sorted(writer.removed)))
