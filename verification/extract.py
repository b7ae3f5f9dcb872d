"""From what a person gives (a URL, pasted text, an image) to one credential payload.

research/open-badges-spec.md §3.3: an image is read by ``openbadges.baking.extract`` (PNG
``iTXt``/SVG element, never pixels); text is JSON, a compact JWS or a URL; a URL on our own
origin is looked up in the database, any other goes through :mod:`verification.fetcher`.
Hard limits (DESIGN.md §6, §9): uploads ≤ 5 MiB, credential text ≤ 1 MiB, JSON with duplicate keys
refused (two parsers could read two different documents).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from badges import securing
from badges.models import Award
from issuers.keys import SigningUnavailable
from openbadges import baking
from verification import fetcher, own
from verification.keyresolve import is_own_origin

UPLOAD_MAX_BYTES: Final = 5 * 1024 * 1024
TEXT_MAX_BYTES: Final = 1024 * 1024
MAX_JSON_DEPTH: Final = 64
JWS_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"


class InputProblem(Exception):
    """Nothing verifiable in the input; ``code`` is stable, the message is for the reader."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


@dataclass
class Payload:
    """One credential to verify: parsed JSON (``document``) or a compact JWS (``jws``)."""

    kind: str  # "url", "json", "jws", "png", "svg"
    document: dict[str, Any] | None = None
    jws: str = ""
    source_url: str = ""
    award: Award | None = None
    http_status: int = 200


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InputProblem(
                "duplicate_key",
                _("The credential repeats the property “%(key)s”, so it cannot be trusted.")
                % {"key": key},
            )
        result[key] = value
    return result


def _depth(value: Any, limit: int) -> int:
    """How deep ``value`` nests (a scalar inside an object counts one level below it); past
    ``limit``, some depth over it. Only objects and arrays go on the stack."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > limit:
            return level
        children = item.values() if isinstance(item, dict) else item
        if not isinstance(children, list) and not isinstance(item, dict):
            continue
        below = level + 1
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, below))
            elif below > deepest:
                deepest = below
    return deepest


def parse_json(text: str | bytes) -> dict[str, Any]:
    """Parse credential JSON within the limits; raises :class:`InputProblem`."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > TEXT_MAX_BYTES:
        raise InputProblem("too_large", _("The credential is larger than 1 MiB."))
    try:
        data = json.loads(raw.decode("utf-8-sig"), object_pairs_hook=_no_duplicates)
    except InputProblem:
        raise
    except (ValueError, RecursionError) as error:
        raise InputProblem("not_json", _("This is not valid JSON."), str(error)[:200]) from None
    if not isinstance(data, dict):
        raise InputProblem("not_object", _("The JSON is not a credential (not an object)."))
    if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise InputProblem("too_deep", _("The credential is nested too deeply."))
    try:  # "\ud800" is valid JSON but no text: every page, report and hash would fail on it
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InputProblem(
            "not_json", _("This is not valid JSON."), "a lone surrogate (\\ud800-\\udfff)"
        ) from None
    return data


def from_text(text: str, *, kind: str = "json", source_url: str = "") -> Payload:
    """Pasted or fetched text: JSON, a compact JWS, or (only when pasted) a URL."""
    if len(text.encode("utf-8", "replace")) > TEXT_MAX_BYTES:
        raise InputProblem("too_large", _("The credential is larger than 1 MiB."))
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise InputProblem("empty", _("Paste a badge link, its JSON, or choose a badge image."))
    if stripped.startswith("{"):
        return Payload(kind, document=parse_json(stripped), source_url=source_url)
    if JWS_PATTERN.match(stripped):
        return Payload("jws" if kind == "json" else kind, jws=stripped, source_url=source_url)
    if not source_url and re.match(r"^https?://", stripped, re.IGNORECASE):
        return from_url(stripped)
    raise InputProblem(
        "unrecognised",
        _("This is not a badge: expected credential JSON, a signed token (JWS) or a link."),
    )


def from_url(url: str) -> Payload:
    """Our own credential URLs from the database; others through the safe fetcher."""
    url = url.strip()
    award = own.award_for_url(url)
    if award is not None and urlsplit(url).path.endswith(".jwt"):
        # Our VC-JWT link: the token that link serves (badges.securing), not its JSON twin.
        try:
            token = securing.award_jwt(award)
        except SigningUnavailable:
            raise InputProblem(
                "fetch_failed", _("The badge could not be retrieved from that link.")
            ) from None
        return Payload("url", jws=token, source_url=url, award=award)
    if award is not None:
        return Payload(
            "url", document=parse_json(award.credential_json), source_url=url, award=award
        )
    try:
        response = fetcher.fetch(
            url,
            accept=fetcher.JSON_ACCEPT + ", image/png;q=0.4, image/svg+xml;q=0.4",
            max_bytes=fetcher.IMAGE_MAX_BYTES,
        )
    except fetcher.BlockedURL as error:
        raise InputProblem(
            "blocked_url",
            _("That link points to an address this verifier does not contact."),
            detail=str(error),
        ) from None
    except fetcher.FetchTimeout:
        raise InputProblem("timeout", _("The badge's website did not answer in time.")) from None
    except fetcher.TooLarge:
        raise InputProblem("too_large", _("The document at that link is too large.")) from None
    except fetcher.FetchError as error:
        raise InputProblem(
            "fetch_failed", _("The badge could not be retrieved from that link."), str(error)
        ) from None
    if response.status == 410:
        # OB 2.0 hosted: 410 Gone means revoked (research §4.2); the body may say why.
        payload = Payload("url", source_url=response.url, http_status=410)
        try:
            payload.document = parse_json(response.body)
        except InputProblem:
            payload.document = {"id": url, "revoked": True}
        return payload
    if response.status == 404 and is_own_origin(url):
        raise InputProblem("not_found", _("This platform has no badge at that link."), detail=url)
    if response.status != 200:
        raise InputProblem(
            "http_error",
            _("The badge's website answered with an error (HTTP %(status)s).")
            % {"status": response.status},
        )
    if response.body.startswith(PNG_MAGIC) or response.content_type in (
        "image/png",
        "image/svg+xml",
    ):
        payload = from_image(response.body)
        payload.source_url = response.url
        return payload
    if len(response.body) > TEXT_MAX_BYTES:
        raise InputProblem("too_large", _("The credential is larger than 1 MiB."))
    try:
        text = response.body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputProblem("not_json", _("The document at that link is not a badge.")) from None
    if response.content_type == "text/html" or text.lstrip().startswith("<"):
        raise InputProblem(
            "html_page",
            _("That link is a web page, not a badge. Paste the badge's credential link instead."),
        )
    return from_text(text, kind="url", source_url=response.url)


def from_image(data: bytes) -> Payload:
    """A baked PNG or SVG: the credential text inside it, never the pixels."""
    if len(data) > UPLOAD_MAX_BYTES:
        raise InputProblem("too_large", _("The file is larger than 5 MiB."))
    try:
        extracted = baking.extract(data)
    except baking.BakingError as error:
        raise InputProblem(
            "bad_image", _("The image is damaged or too large to read safely."), str(error)
        ) from None
    if extracted is None:
        raise InputProblem("no_credential", _("This image does not contain a badge."))
    kind = "png" if data.startswith(PNG_MAGIC) else "svg"
    # An OB 2.0 image may hold only the hosted assertion's URL: from_text then fetches it.
    return from_text(extracted.payload, kind=kind, source_url="")


def from_upload(data: bytes, filename: str = "") -> Payload:
    """An uploaded file: an image, or a ``.json``/``.jwt`` text file."""
    if len(data) > UPLOAD_MAX_BYTES:
        raise InputProblem("too_large", _("The file is larger than 5 MiB."))
    head = data[:512].lstrip()
    if data.startswith(PNG_MAGIC) or head.startswith(b"<"):
        return from_image(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputProblem(
            "unrecognised", _("This file is not a badge image (PNG or SVG) or credential.")
        ) from None
    return from_text(text, kind="json")
