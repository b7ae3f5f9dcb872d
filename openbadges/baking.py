"""Baking a credential into a badge image, and extracting it again (research §3).

OB 3.0 (``ob_v3p0/docformat.md`` §Baked Badge) and OB 2.0 (``ob_v2p0/baking/index.md``):

* PNG: one uncompressed ``iTXt`` chunk, keyword ``openbadgecredential`` (OB 3.0) or
  ``openbadges`` (OB 2.0); its data is ``keyword NUL 0 0 NUL NUL text`` (five zero bytes after
  the keyword, research §3.1). Baking **splices** that chunk into the stored bytes right after
  ``IHDR``; no pixel is decoded or re-encoded, and earlier Open Badges chunks are dropped so
  the result carries exactly one.
* SVG: ``<openbadges:credential>`` in the ``https://purl.imsglobal.org/ob/v3p0`` namespace,
  directly after the opening ``<svg>`` tag, the credential JSON in CDATA or a compact JWS in
  its ``verify`` attribute (research §3.2). OB 2.0 uses ``<openbadges:assertion>`` in
  ``http://openbadges.org``. Characters XML 1.0 cannot carry (U+FFFF, most C0 controls) are
  baked as JSON ``\\uXXXX`` escapes: the same credential, valid XML (``_xml_safe``).

Extraction follows research §3.3: PNG ``iTXt openbadgecredential``, else ``iTXt openbadges``,
else ``tEXt openbadges`` (a hosted-assertion URL); SVG ``{ob/v3p0}credential``, else
``{openbadges.org}assertion``, matched by namespace URI, not prefix. SVG is parsed with
``defusedxml`` (no entity expansion, no external references). Inputs over
:data:`MAX_INPUT_BYTES` are refused before any parsing.

About 515 lines: both image formats, both Open Badges versions and both directions are kept
together because they share the chunk and namespace rules above; split, each half would
restate them.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

#: Images larger than this are refused by :func:`extract` and the ``bake_*`` functions.
MAX_INPUT_BYTES: Final = 5 * 1024 * 1024

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
OB3_PNG_KEYWORD: Final = b"openbadgecredential"
OB2_PNG_KEYWORD: Final = b"openbadges"
OB3_NAMESPACE: Final = "https://purl.imsglobal.org/ob/v3p0"
OB2_NAMESPACE: Final = "http://openbadges.org"
SVG_NAMESPACE: Final = "http://www.w3.org/2000/svg"

Version = Literal["ob3", "ob2"]
Format = Literal["png", "svg"]
Kind = Literal["json", "jws", "url"]

_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
# Characters XML 1.0 §2.2 does not allow in a document at all (not even in CDATA).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class BakingError(ValueError):
    """An image that cannot be baked or read: the message says why, for a person."""


class ImageTooLarge(BakingError):
    """The input is over :data:`MAX_INPUT_BYTES`."""


class UnsupportedImage(BakingError):
    """The input is neither a PNG nor an SVG document."""


class MalformedImage(BakingError):
    """A PNG or SVG whose structure is broken (bad chunk, bad XML, unsafe XML)."""


class InvalidCredentialText(BakingError):
    """The credential cannot be carried by this image format (e.g. XML-illegal characters)."""


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a baked image carries.

    ``payload`` is the text as baked: credential/assertion JSON, a compact JWS, or (OB 2.0
    hosted ``tEXt``/``verify``) the assertion URL. ``kind`` says which.
    """

    format: Format
    version: Version
    payload: str

    @property
    def kind(self) -> Kind:
        text = self.payload.strip()
        if text.startswith(("{", "[")):
            return "json"
        if _JWS.match(text):
            return "jws"
        return "url"

    def json(self) -> Any:
        """The payload parsed as JSON (raises ``ValueError`` if it is not JSON)."""
        return json.loads(self.payload)


# --------------------------------------------------------------------------------------------
# Credential text
# --------------------------------------------------------------------------------------------


def _escape_illegal(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def xml_illegal(text: str) -> str | None:
    """The first character of ``text`` that XML 1.0 cannot carry (§2.2 ``Char``: C0 controls
    other than tab, LF and CR, U+FFFE, U+FFFF, lone surrogates), or ``None``.

    Text with such a character cannot be baked into an SVG as it is: input that ends up in a
    credential is refused with it (``common.text``).
    """
    match = _XML_ILLEGAL.search(text)
    return match.group() if match else None


def credential_text(credential: str | Mapping[str, Any]) -> str:
    """The text to bake: a ``str`` is used exactly (the stored signed text, or a JWS);
    a mapping is serialised as compact UTF-8 JSON.

    Characters XML cannot carry can only occur inside JSON strings, so in serialised mappings
    they are written as ``\\uXXXX`` escapes: the same JSON value, bakeable in SVG as well.
    """
    if isinstance(credential, str):
        return credential
    text = json.dumps(credential, ensure_ascii=False, separators=(",", ":"))
    return _XML_ILLEGAL.sub(_escape_illegal, text)


def _xml_safe(text: str) -> str:
    """``text`` made bakeable in SVG: JSON whose XML-illegal characters are JSON escapes.

    A credential signed before such characters were refused at input (a narrative with
    U+FFFF, say) is stored with them, and XML 1.0 cannot carry them in any form: not raw, not
    in CDATA, and not as a character reference either (``&#xFFFF;`` breaks the Legal Character
    constraint of §4.1), so an XML parser would refuse the whole image. In valid JSON they
    can only stand inside strings, where ``\\uFFFF`` is the same character written in ASCII:
    the JSON *value* is unchanged, and that value is what a Data Integrity proof signs (RDF
    canonicalization or JCS of the parsed document, never its bytes), so the baked
    credential still verifies. Only the bytes differ from the stored text. A compact JWS is
    base64url and never needs this; text that is not valid JSON is refused, not rewritten.
    """
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidCredentialText(
            "The credential text has characters XML cannot carry."
        ) from None
    return _XML_ILLEGAL.sub(_escape_illegal, text)


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidCredentialText("The credential text is not valid Unicode.") from None


def _check_size(data: bytes) -> None:
    if len(data) > MAX_INPUT_BYTES:
        raise ImageTooLarge(
            f"The image is {len(data)} bytes; the limit is {MAX_INPUT_BYTES} bytes."
        )


# --------------------------------------------------------------------------------------------
# PNG (PNG spec §11.3.4.5 iTXt, §5.3 chunk layout)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Chunk:
    type: bytes
    start: int  # offset of the length field
    data_start: int
    end: int  # offset after the CRC


def _chunks(png: bytes) -> Iterator[_Chunk]:
    """Walk the chunk headers (no decompression); stops after ``IEND``."""
    if not png.startswith(PNG_SIGNATURE):
        raise UnsupportedImage("This is not a PNG image.")
    offset = len(PNG_SIGNATURE)
    total = len(png)
    first = True
    while True:
        if offset + 12 > total:
            raise MalformedImage("The PNG ends before its IEND chunk.")
        (length,) = struct.unpack_from(">I", png, offset)
        chunk_type = png[offset + 4 : offset + 8]
        end = offset + 12 + length
        if length > 0x7FFFFFFF or end > total:
            raise MalformedImage("A PNG chunk runs past the end of the file.")
        if first and chunk_type != b"IHDR":
            raise MalformedImage("The PNG does not start with an IHDR chunk.")
        first = False
        yield _Chunk(chunk_type, offset, offset + 8, end)
        if chunk_type == b"IEND":
            return
        offset = end


def _chunk(chunk_type: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(chunk_type)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", crc)


def _text_keyword(png: bytes, chunk: _Chunk) -> bytes | None:
    """The keyword of a tEXt/iTXt/zTXt chunk (the bytes before the first NUL)."""
    if chunk.type not in (b"iTXt", b"tEXt", b"zTXt"):
        return None
    data_end = chunk.end - 4
    nul = png.find(b"\x00", chunk.data_start, min(data_end, chunk.data_start + 80))
    return None if nul < 0 else png[chunk.data_start : nul]


def bake_png(png: bytes, credential: str | Mapping[str, Any], *, version: Version = "ob3") -> bytes:
    """Return ``png`` with ``credential`` baked in one uncompressed ``iTXt`` chunk.

    The chunk goes right after ``IHDR``; every other byte of the image is kept, except
    earlier ``openbadges``/``openbadgecredential`` text chunks, which are removed so the
    result carries exactly one credential (research §3.1: "MUST NOT appear more than once").
    """
    _check_size(png)
    keyword = OB3_PNG_KEYWORD if version == "ob3" else OB2_PNG_KEYWORD
    # keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated
    # keyword NUL, then the UTF-8 text (PNG §11.3.4.5).
    payload = keyword + b"\x00\x00\x00\x00\x00" + _utf8(credential_text(credential))
    new_chunk = _chunk(b"iTXt", payload)
    parts: list[bytes] = [PNG_SIGNATURE]
    keep_from = len(PNG_SIGNATURE)
    for chunk in _chunks(png):
        if chunk.start == len(PNG_SIGNATURE):  # the IHDR; a stray second one gets no copy
            parts.append(png[keep_from : chunk.end])
            parts.append(new_chunk)
            keep_from = chunk.end
        elif _text_keyword(png, chunk) in (OB3_PNG_KEYWORD, OB2_PNG_KEYWORD):
            parts.append(png[keep_from : chunk.start])
            keep_from = chunk.end
        elif chunk.type == b"IEND":
            parts.append(png[keep_from : chunk.end])
    return b"".join(parts)


def _itxt_text(data: bytes) -> str:
    """The text of an iTXt chunk's data (keyword already known)."""
    nul = data.index(b"\x00")
    if len(data) < nul + 3:
        raise MalformedImage("A PNG iTXt chunk is truncated.")
    compressed, method = data[nul + 1], data[nul + 2]
    language_end = data.find(b"\x00", nul + 3)
    translated_end = data.find(b"\x00", language_end + 1) if language_end >= 0 else -1
    if translated_end < 0:
        raise MalformedImage("A PNG iTXt chunk is truncated.")
    raw = data[translated_end + 1 :]
    if compressed:
        # Baked badges MUST NOT be compressed, but read one that is, with a bounded output
        # so a small chunk cannot inflate into gigabytes.
        if method != 0:
            raise MalformedImage("A PNG iTXt chunk uses an unknown compression method.")
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(raw, MAX_INPUT_BYTES + 1)
        except zlib.error:
            raise MalformedImage("A compressed PNG iTXt chunk is corrupt.") from None
        if len(raw) > MAX_INPUT_BYTES or inflater.unconsumed_tail:
            raise ImageTooLarge("The credential in the PNG inflates past the size limit.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedImage("The credential in the PNG is not UTF-8 text.") from None


def _extract_png(png: bytes) -> Extracted | None:
    found: dict[tuple[bytes, bytes], _Chunk] = {}
    for chunk in _chunks(png):
        keyword = _text_keyword(png, chunk)
        if keyword is not None and keyword in (OB3_PNG_KEYWORD, OB2_PNG_KEYWORD):
            if (chunk.type, keyword) in found:
                # OB 3.0 §5.3.1: exactly one. Two would let a reader and a verifier disagree
                # on which credential the picture carries (research S-10).
                raise MalformedImage("The PNG carries more than one credential.")
            found[(chunk.type, keyword)] = chunk
    for chunk_type, keyword, version in (
        (b"iTXt", OB3_PNG_KEYWORD, "ob3"),
        (b"iTXt", OB2_PNG_KEYWORD, "ob2"),
        (b"tEXt", OB2_PNG_KEYWORD, "ob2"),
    ):
        hit = found.get((chunk_type, keyword))
        if hit is None:
            continue
        data = png[hit.data_start : hit.end - 4]
        (crc,) = struct.unpack_from(">I", png, hit.end - 4)
        if zlib.crc32(data, zlib.crc32(chunk_type)) & 0xFFFFFFFF != crc:
            raise MalformedImage("The PNG chunk holding the credential is corrupt (bad CRC).")
        if chunk_type == b"iTXt":
            text = _itxt_text(data)
        else:
            text = data[len(keyword) + 1 :].decode("latin-1")  # tEXt is Latin-1 (PNG §11.3.4.3)
        return Extracted("png", "ob3" if version == "ob3" else "ob2", text)
    return None


# --------------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------------

_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _root_start_tag(svg: bytes) -> tuple[int, int, bytes]:
    """Locate the root element's start tag: (offset of ``<``, offset after ``>``, its name).

    Skips the prolog (XML declaration, comments, processing instructions, DOCTYPE) and
    tracks quotes, since ``>`` may occur inside attribute values.
    """
    offset = 3 if svg.startswith(b"\xef\xbb\xbf") else 0
    total = len(svg)
    while True:
        start = svg.find(b"<", offset)
        if start < 0:
            raise UnsupportedImage("This is not an SVG document.")
        if svg.startswith(b"<?", start):
            end = svg.find(b"?>", start)
            offset = end + 2
        elif svg.startswith(b"<!--", start):
            end = svg.find(b"-->", start)
            offset = end + 3
        elif svg.startswith(b"<!", start):
            # DOCTYPE, possibly with an internal subset in brackets.
            end = start
            depth = 0
            while end < total:
                char = svg[end]
                if char == 0x5B:  # [
                    depth += 1
                elif char == 0x5D:  # ]
                    depth -= 1
                elif char == 0x3E and depth <= 0:  # >
                    break
                end += 1
            offset = end + 1
        else:
            break
        if end < 0 or offset > total:
            raise MalformedImage("The SVG prolog is not closed.")
    name_end = start + 1
    while name_end < total and svg[name_end] not in b" \t\r\n/>":
        name_end += 1
    name = svg[start + 1 : name_end]
    quote = 0
    position = name_end
    while position < total:
        char = svg[position]
        if quote:
            if char == quote:
                quote = 0
        elif char in (0x22, 0x27):
            quote = char
        elif char == 0x3E:
            return start, position + 1, name
        position += 1
    raise MalformedImage("The SVG root element's start tag is not closed.")


def _parse_svg(svg: bytes) -> Element:
    try:
        root = SafeET.fromstring(svg)
    except DefusedXmlException:
        raise MalformedImage("The SVG declares entities or external references.") from None
    except ParseError as error:
        raise MalformedImage(f"The SVG is not well-formed XML ({error}).") from None
    except LookupError:  # an encoding declaration naming no codec Python has
        raise MalformedImage("The SVG declares an unknown character encoding.") from None
    if root.tag not in (f"{{{SVG_NAMESPACE}}}svg", "svg"):
        raise UnsupportedImage("This XML document is not an SVG image.")
    return root


def _cdata(text: str) -> str:
    # "]]>" cannot occur inside CDATA; end the section before ">" and start a new one.
    # An XML parser joins the sections, so the text is restored exactly.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml_attribute(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def bake_svg(svg: bytes, credential: str | Mapping[str, Any], *, version: Version = "ob3") -> bytes:
    """Return ``svg`` with ``credential`` inserted right after its opening ``<svg>`` tag.

    JSON goes in CDATA; a compact JWS goes in the ``verify`` attribute (research §3.2). The
    rest of the document is kept byte for byte. The SVG must be UTF-8 and not baked already.
    JSON holding characters XML cannot carry is baked with those characters as JSON escapes
    (the same credential, see :func:`_xml_safe`); other such text raises
    :class:`InvalidCredentialText`.
    """
    _check_size(svg)
    match = _DECLARED_ENCODING.match(svg.lstrip(b"\xef\xbb\xbf"))
    if match and match.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        raise UnsupportedImage("Only UTF-8 SVG documents can be baked.")
    namespace = OB3_NAMESPACE if version == "ob3" else OB2_NAMESPACE
    if OB3_NAMESPACE.encode() in svg or OB2_NAMESPACE.encode() in svg:
        svg = _unbake_svg(svg)
    text = credential_text(credential)
    if _XML_ILLEGAL.search(text):
        text = _xml_safe(text)
    _start, tag_end, name = _root_start_tag(svg)
    if name.rsplit(b":", 1)[-1] != b"svg":
        raise UnsupportedImage("This XML document is not an SVG image.")
    start_tag = svg[_start:tag_end]
    if start_tag.endswith(b"/>"):
        raise BakingError("The SVG is empty (its root element is self-closing).")
    declared = re.search(rb"""\sxmlns:openbadges\s*=\s*["']([^"']*)["']""", start_tag)
    local = "credential" if version == "ob3" else "assertion"
    # The prefix is declared on <svg> (as the spec's examples do) unless <svg> already binds
    # it to another namespace; then the element declares it for itself.
    rebind = declared is not None and declared.group(1) != namespace.encode()
    xmlns = f' xmlns:openbadges="{namespace}"' if rebind else ""
    if _JWS.match(text):
        element = (
            f'<openbadges:{local}{xmlns} verify="{_xml_attribute(text)}"></openbadges:{local}>'
        )
    else:
        element = f"<openbadges:{local}{xmlns}>{_cdata(text)}</openbadges:{local}>"
    if declared is None:
        close = tag_end - 1
        head = svg[:close] + f' xmlns:openbadges="{namespace}"'.encode() + svg[close:tag_end]
    else:
        head = svg[:tag_end]
    return head + element.encode("utf-8") + svg[tag_end:]


def _unbake_svg(svg: bytes) -> bytes:
    """``svg`` without its Open Badges elements (so a re-baked image carries exactly one).

    The document is checked with ``defusedxml`` first; expat then reports the byte offsets
    of the elements to cut out, and everything else is kept byte for byte.
    """
    root = _parse_svg(svg)
    if _find_svg(root, OB3_NAMESPACE) is None and _find_svg(root, OB2_NAMESPACE) is None:
        return svg
    wanted = {f"{OB3_NAMESPACE} credential", f"{OB2_NAMESPACE} assertion"}
    spans: list[tuple[int, int]] = []
    depth = 0
    begin = 0
    # nosemgrep: xml-without-defusedxml - defusedxml accepted the document just above
    parser = expat.ParserCreate(namespace_separator=" ")

    def start(name: str, _attributes: dict[str, str]) -> None:
        nonlocal depth, begin
        if name in wanted:
            if depth == 0:
                begin = parser.CurrentByteIndex
            depth += 1

    def end(name: str) -> None:
        nonlocal depth
        if name in wanted:
            depth -= 1
            if depth == 0:
                index = parser.CurrentByteIndex
                # An empty-element tag ends where it began; otherwise skip the end tag.
                close = svg.find(b">", index) + 1 if svg.startswith(b"</", index) else index
                if close <= begin:
                    close = svg.find(b">", begin) + 1
                spans.append((begin, close))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:  # a namespace URI with a space (the separator here) passes defusedxml, not this
        parser.Parse(svg, True)
    except expat.ExpatError as error:
        raise MalformedImage(f"The SVG is not well-formed XML ({error}).") from None
    parts: list[bytes] = []
    kept = 0
    for first, last in spans:
        parts.append(svg[kept:first])
        kept = last
    parts.append(svg[kept:])
    return b"".join(parts)


def _find_svg(root: Element, namespace: str) -> Element | None:
    local = "credential" if namespace == OB3_NAMESPACE else "assertion"
    return root.find(f".//{{{namespace}}}{local}")


def _extract_svg(svg: bytes) -> Extracted | None:
    root = _parse_svg(svg)
    for namespace, version in ((OB3_NAMESPACE, "ob3"), (OB2_NAMESPACE, "ob2")):
        element = _find_svg(root, namespace)
        if element is None:
            continue
        body = (element.text or "").strip()
        verify = (element.get("verify") or "").strip()
        payload = body or verify
        if not payload:
            raise MalformedImage("The SVG's credential element is empty.")
        return Extracted("svg", "ob3" if version == "ob3" else "ob2", payload)
    return None


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def image_format(data: bytes) -> Format | None:
    """``png`` or ``svg`` by content (magic bytes / an XML-looking start), else ``None``."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    head = data[:512].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<") and b"<svg" in data[:65536]:
        return "svg"
    if head.startswith(b"<svg:") or (head.startswith(b"<") and b":svg" in data[:65536]):
        return "svg"
    return None


def bake(image: bytes, credential: str | Mapping[str, Any], *, version: Version = "ob3") -> bytes:
    """Bake into a PNG or SVG, whichever ``image`` is."""
    fmt = image_format(image)
    if fmt == "png":
        return bake_png(image, credential, version=version)
    if fmt == "svg":
        return bake_svg(image, credential, version=version)
    raise UnsupportedImage("Badge images must be PNG or SVG.")


def extract(data: bytes) -> Extracted | None:
    """The credential baked into a PNG or SVG image, or ``None`` if it carries none.

    Raises :class:`ImageTooLarge` over :data:`MAX_INPUT_BYTES`, :class:`UnsupportedImage`
    for other file types, :class:`MalformedImage` for a broken PNG/SVG. Pixels are never
    decoded.
    """
    _check_size(data)
    fmt = image_format(data)
    if fmt == "png":
        return _extract_png(data)
    if fmt == "svg":
        return _extract_svg(data)
    raise UnsupportedImage("Only PNG and SVG images can carry a baked badge.")
