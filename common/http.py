"""HTTP answers shared by the public pages: content negotiation (HTML for people, JSON-LD for
machines), public JSON with CORS, and ``If-None-Match`` revalidation."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

JSON_TYPES = ("application/vc+ld+json", "application/ld+json", "application/json")
HTML_TYPES = ("text/html", "application/xhtml+xml")


def _accepted(request: HttpRequest) -> dict[str, float]:
    accepted: dict[str, float] = {}
    for part in request.headers.get("Accept", "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        accepted[media.lower()] = max(quality, accepted.get(media.lower(), 0.0))
    return accepted


def json_type(request: HttpRequest, offered: tuple[str, ...] = JSON_TYPES) -> str | None:
    """The JSON media type to answer with, or None when HTML is preferred (RFC 9110 §12.5.1).

    A JSON type wins only if the client names it with a higher quality than any HTML type,
    so browsers (which list text/html) and ``*/*`` get the page.
    """
    accepted = _accepted(request)
    html = max((accepted.get(t, 0.0) for t in HTML_TYPES), default=0.0)
    best: tuple[float, str] | None = None
    for media in offered:
        quality = accepted.get(media, 0.0)
        if quality > 0 and quality > html and (best is None or quality > best[0]):
            best = (quality, media)
    return best[1] if best else None


def json_response(body: str | bytes, media_type: str) -> HttpResponse:
    """A public JSON answer: any origin may read it (verifiers run in browsers too)."""
    response = HttpResponse(body, content_type=f"{media_type}; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Vary"] = "Accept"
    return response


def not_modified(request: HttpRequest, etag: str) -> HttpResponse | None:
    """A 304 when the client already holds ``etag``; None when it must get the body."""
    wanted = request.headers.get("If-None-Match", "")
    if etag in (tag.strip() for tag in wanted.split(",")):
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response
    return None


def client_address(request: HttpRequest) -> str:
    """The client's address as the nearest party we trust saw it: the peer, or with
    ``INSIGNIA_TRUSTED_PROXIES`` the address the outermost trusted proxy saw, counted from the
    right of ``X-Forwarded-For``. "" when there is none. Every per-client limit uses it."""
    proxies = settings.INSIGNIA_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in str(forwarded).split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))
