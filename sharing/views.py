"""Public pages: a credential at its URL, an achievement and each of its versions, an
issuer's profile, and their share cards.

Each page is HTML for people and JSON for machines (content negotiation, DESIGN.md §4). A
credential's JSON is the exact stored text, served byte for byte. The badge page carries its
live state, sharing (LinkedIn, QR, embed, WeChat card) and Open Graph tags; share cards are
generated PNGs (``badges.preview``). The baked images are in ``badges.views``.

The badge page and the award's cards are drawn once per (award, language, state version)
and kept in the cache (Redis in production); a first view draws the page from a skeleton
shared by awards of the same content (``sharing.page``). The state version is read with one
query on every request (``STATE_SQL``): it digests every row the page shows, so a
revocation, a learner's choice or a new brand colour changes it at once, without any write
path having to remember to. About 530 lines: the badge page's cache (state version, the
stand-ins filled per request) sits with the pages that share its card drawing, and the
credential's two machine forms (the stored JSON and the VC-JWT made from it,
``/credentials/<id>.jwt`` or ``Accept: application/vc+jwt``) with the page they negotiate with.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from achievements.diff import version_history
from badges import credentials, preview, securing, selectors
from badges.baked import IMAGE_CACHE, SVG_CSP
from badges.credentials import reader_language
from badges.models import AchievementVersion, Award
from badges.state import award_state
from common import markdown
from common.http import (
    IMMUTABLE_TEXT,
    JSON_TYPES,
    PRIVATE_PAGE,
    REVALIDATE,
    SHARE_CARD,
    cached_body,
    fields_of,
    fingerprint,
    json_response,
    json_type,
    not_modified,
)
from earners import selectors as earner_selectors
from earners import services as earner_services
from endorsements import selectors as endorsement_selectors
from frameworks.catalogue import export
from issuers.keys import SigningUnavailable, issuer_did
from issuers.models import Issuer, Securing
from openbadges import vcjwt
from sharing import meta, page

# Stand-ins in a cached badge page for what differs per request: the reader's CSRF token
# and path (base.html's language switch) and the time the status was read. Plain letters,
# digits and dashes, so HTML escaping leaves them as they are.
CSRF_MARK = "insignia-csrf-mark-5f0c7a"
PATH_MARK = "/insignia-path-mark-5f0c7a"
CHECKED_MARK = page.CHECKED_MARK
HTML_VARY = "Accept, Accept-Language, Cookie"
# A VC-JWT (VC-JOSE-COSE §6.1.1 media type; plain ``application/jwt`` is accepted too).
JWT_TYPES = (vcjwt.MEDIA_TYPE, "application/jwt")


def _html(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, template, context)
    response["Vary"] = HTML_VARY
    return response


# The state version in one round trip on PostgreSQL: every row a public page of the award
# shows, whole (``row::text``: a column added later is covered too), and whether a learner
# holds it, digested by the database. Compiling the equivalent ORM query cost more CPU than
# serving the cached page.
STATE_SQL = """
SELECT a.status, a.valid_until, md5(concat_ws('|', a::text, i::text, n::text, v::text, c::text,
    p::text,
    EXISTS (SELECT 1 FROM earners_heldaward h WHERE h.award_id = a.id),
    EXISTS (SELECT 1 FROM earners_learneremail e
            WHERE e.email = a.recipient_email AND e.verified_at IS NOT NULL),
    EXISTS (SELECT 1 FROM earners_institutionalidentity d
            WHERE d.institution_id = i.institution_id
              AND d.identity_type = a.recipient_identifier_type
              AND d.value = a.recipient_identifier)))
FROM badges_award a
JOIN issuers_issuer i ON i.id = a.issuer_id
JOIN issuers_institution n ON n.id = i.institution_id
JOIN badges_achievementversion v ON v.id = a.achievement_version_id
JOIN badges_achievement c ON c.id = v.achievement_id
LEFT JOIN earners_awardpreference p ON p.award_id = a.id
WHERE a.id = %s
"""


def _page_award(award_id: uuid.UUID) -> Award:
    """The award with everything its public pages show: its row, issuer, institution,
    version and achievement, and the learner's stored choices; 404 if none."""
    return page.load(award_id)


def _drawn_award(award_id: uuid.UUID, loaded: Award | None) -> Award:
    """The award as its pages draw it, with the learner's effective choices read (one
    query: ``page.load``)."""
    return loaded or _page_award(award_id)


def state_version(award: Award) -> str:
    """Changes whenever anything a public page of ``award`` shows could: its status and
    reason, expiry reached, the learner's choices (name, evidence, indexing, supersession),
    whether a learner holds it, the issuer's and institution's branding, the version, and
    the templates and translations. Read from the rows themselves, so no write path has to
    remember to bump it. (Other databases than PostgreSQL: ``make run``'s SQLite.)"""
    version = award.achievement_version
    return fingerprint(
        page.release(),
        settings.INSIGNIA_BASE_URL,
        fields_of(award),
        fields_of(award.issuer),
        fields_of(award.issuer.institution),
        fields_of(version),
        fields_of(version.achievement),
        # the stored choices, or the defaults once a learner holds it (``None``: no one)
        fields_of(earner_selectors.effective_preference(award)),
        award_state(award).state,
    )


def _state(award_id: uuid.UUID) -> tuple[str, Award | None]:
    """The award's state version, with one query; the award itself when reading the version
    loaded it (not on PostgreSQL: there the page loads it only when it is drawn). 404 if
    there is no such award."""
    if connection.vendor != "postgresql":
        award = _page_award(award_id)
        return state_version(award), award
    with connection.cursor() as cursor:
        cursor.execute(STATE_SQL, [award_id])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    status, valid_until, digest = row
    live = award_state(Award(status=status, valid_until=valid_until)).state  # expiry, now
    return fingerprint(page.release(), settings.INSIGNIA_BASE_URL, digest, live), None


def _shareable(request: HttpRequest) -> bool:
    """Whether the page this request gets is the one every anonymous reader gets: no
    session (the header then shows who is signed in) and no flashed messages."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def _count(request: HttpRequest, award: Award, *, is_json: bool) -> None:
    # One anonymous count ("who viewed my badge"), buffered in Redis when there is one
    # (earners.viewcounts); never raises. A write on GET on purpose: counting views is what
    # the learner asked for (MISSION.md earner need 8).
    channel = earner_services.channel_of(request, is_json=is_json)
    if channel is not None:
        earner_services.record_view(award=award, channel=channel)


def _credential_json(
    request: HttpRequest, award_id: uuid.UUID, media: str, *, canonical: bool
) -> HttpResponse:
    text = Award.objects.filter(pk=award_id).values_list("credential_json", flat=True).first()
    if text is None:
        raise Http404
    _count(request, Award(pk=award_id), is_json=True)  # counting needs the award's key only
    body = text.encode("utf-8")
    # The signed text never changes, so the ETag is its digest. On the page's own URL
    # (content negotiation) a cache must revalidate, so it never hands JSON to a browser.
    control = IMMUTABLE_TEXT if canonical else REVALIDATE
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    response = not_modified(request, etag, control) or json_response(body, media)
    response["ETag"] = etag
    response["Cache-Control"] = control
    response["Vary"] = "Accept"
    return response


def _credential_jwt(
    request: HttpRequest, award_id: uuid.UUID, *, canonical: bool, json_media: str | None = None
) -> HttpResponse:
    """The credential secured as a VC-JWT (``badges.securing``), served like the JSON: to
    anyone with the link, counted as a view, ETag its digest. ``json_media``: the client
    takes JSON as readily, so the issuer's choice (``Issuer.securing``) decides."""
    found = securing.stored(award_id)
    if found is None:
        raise Http404
    if json_media is not None and found.securing != Securing.VC_JWT:
        return _credential_json(request, award_id, json_media, canonical=canonical)
    try:
        body = securing.credential_jwt(found)
    except SigningUnavailable:
        response = HttpResponse(
            _("This credential cannot be signed as a VC-JWT right now; its JSON form is at %(url)s")
            % {"url": credentials.absolute(reverse("credential_json", args=[award_id]))},
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "300"
        return response
    _count(request, Award(pk=award_id), is_json=True)
    control = IMMUTABLE_TEXT if canonical else REVALIDATE
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    response = not_modified(request, etag, control) or HttpResponse(
        body, content_type=vcjwt.MEDIA_TYPE
    )
    response["ETag"] = etag
    response["Cache-Control"] = control
    response["Vary"] = "Accept"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _machine_types(request: HttpRequest) -> tuple[str | None, str | None]:
    """The JSON and the VC-JWT type this request prefers to HTML: (json, None) or (None,
    jwt) when one is preferred, both when the client takes either as readily."""
    best = json_type(request, JSON_TYPES + JWT_TYPES)
    if best is None:
        return None, None
    if best in JWT_TYPES:
        return None, best
    jwt_media = json_type(request, JWT_TYPES)
    # A tie: json_type answers the first offered of equally wanted types.
    if jwt_media is not None and json_type(request, (jwt_media, best)) == jwt_media:
        return best, jwt_media
    return best, None


@require_safe
def credential_jwt(request: HttpRequest, award_id: uuid.UUID) -> HttpResponse:
    """``/credentials/<id>.jwt``: the signed credential as a VC-JWT (``application/vc+jwt``)."""
    return _credential_jwt(request, award_id, canonical=True)


@require_safe
def credential(request: HttpRequest, award_id: uuid.UUID, as_json: bool = False) -> HttpResponse:
    """``/credentials/<id>``: the signed credential as it was issued, or a page about it.

    The page is rendered once per (award, language, state version) and kept in the cache;
    a request reads the state version (one query), counts the view and fills in its own
    CSRF token, path and time (``CSRF_MARK``, ``PATH_MARK``, ``CHECKED_MARK``). A signed-in
    reader's page (their name in the header) is rendered for them alone.
    """
    if as_json:
        return _credential_json(request, award_id, "application/json", canonical=True)
    media, jwt_media = _machine_types(request)
    if jwt_media is not None:
        return _credential_jwt(request, award_id, canonical=False, json_media=media)
    if media is not None:
        return _credential_json(request, award_id, media, canonical=False)
    version, loaded = _state(award_id)
    _count(request, loaded or Award(pk=award_id), is_json=False)
    if not _shareable(request):
        award = loaded or _page_award(award_id)
        body = page.page_body(award, request, get_token(request), shared=False)
        response = HttpResponse(
            body.replace(CHECKED_MARK.encode(), _now_text().encode()),
            content_type="text/html; charset=utf-8",
        )
        response["Vary"] = HTML_VARY
        response["Cache-Control"] = PRIVATE_PAGE
        return response
    key = f"page:credential:{award_id}:{translation.get_language()}:{version}"
    secret = request.META.get("CSRF_COOKIE")
    if secret:  # the reader's copy holds a token of this secret: it is theirs to keep
        cached = not_modified(request, f'W/"{fingerprint(key, secret)}"', PRIVATE_PAGE)
        if cached is not None:
            cached["Vary"] = HTML_VARY
            return cached

    def draw() -> bytes:
        award = _drawn_award(award_id, loaded)
        return page.page_body(award, _PathMark(request), CSRF_MARK, shared=True)  # type: ignore[arg-type]

    body = (
        cached_body(key, draw)
        .replace(CSRF_MARK.encode(), get_token(request).encode())
        .replace(PATH_MARK.encode(), escape(request.get_full_path()).encode())
        .replace(CHECKED_MARK.encode(), _now_text().encode())
    )
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Vary"] = HTML_VARY
    response["ETag"] = f'W/"{fingerprint(key, request.META.get("CSRF_COOKIE"))}"'
    response["Cache-Control"] = PRIVATE_PAGE
    return response


class _PathMark:
    """The request as a cached page's template sees it: its path is a stand-in."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    def get_full_path(self) -> str:
        return PATH_MARK

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


def _now_text() -> str:
    """When the status was read, as the page says it ("Last checked: …"), escaped."""
    return escape(formats.date_format(timezone.localtime(), "DATETIME_FORMAT"))


def _card(award: Award) -> preview.Card:
    with translation.override(award.language):
        name = credentials.credential_name(award)
        lines = [_("Issued by %(issuer)s") % {"issuer": credentials.issuer_name(award)}]
        recipient = meta.recipient_display_name(award)
        if recipient:
            lines.insert(0, _("Awarded to %(name)s") % {"name": recipient})
        lines.append(_("Issued %(date)s") % {"date": award.valid_from.date().isoformat()})
        return preview.Card(
            title=name,
            label=_("Verified Open Badge"),
            lines=lines,
            footer=_("Scan or visit to verify"),
            url=meta.badge_page_url(award),
            colour=award.issuer.institution.brand_colour,
            image_png=_png_of(award.achievement_version),
        )


def _png_of(version: AchievementVersion) -> bytes | None:
    image = version.image
    if image is not None and image.content_type == "image/png":
        return bytes(image.data)
    return None


def _card_etag(card: preview.Card, kind: str) -> str:
    """Changes whenever anything drawn on the card would."""
    digest = hashlib.sha256(
        repr(
            (kind, card.title, card.label, tuple(card.lines), card.footer, card.url, card.colour)
        ).encode("utf-8")
    )
    digest.update(hashlib.sha256(card.image_png or b"").digest())
    return f'"{digest.hexdigest()[:32]}"'


def _draw(card: preview.Card, kind: str) -> bytes:
    if kind == "wechat":
        return preview.wechat_png(card, _("Scan to view and verify this badge"))
    return preview.card_png(card)


def _png_response(data: bytes, etag: str) -> HttpResponse:
    response = HttpResponse(data, content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = SHARE_CARD
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _card_response(request: HttpRequest, card: preview.Card, kind: str = "card") -> HttpResponse:
    """An achievement's or issuer's card: drawn once per content (its ETag names it)."""
    etag = _card_etag(card, kind)
    cached = not_modified(request, etag, SHARE_CARD)
    if cached is not None:
        return cached
    language = translation.get_language()
    data = cached_body(f"page:card:{language}:{etag}", lambda: _draw(card, kind))
    return _png_response(data, etag)


def _award_card(request: HttpRequest, award_id: uuid.UUID, kind: str) -> HttpResponse:
    """An award's card, drawn once per state version; a revalidation costs the one query of
    the state version. The WeChat caption is in the reader's language."""
    version, loaded = _state(award_id)
    etag = f'"{fingerprint(kind, translation.get_language(), version)}"'
    cached = not_modified(request, etag, SHARE_CARD)
    if cached is not None:
        return cached

    def draw() -> bytes:
        return _draw(_card(_drawn_award(award_id, loaded)), kind)

    return _png_response(cached_body(f"page:award-card:{award_id}:{etag}", draw), etag)


@require_safe
def credential_preview(request: HttpRequest, award_id: uuid.UUID) -> HttpResponse:
    """``/credentials/<id>/preview.png``: the 1200x627 card crawlers show for a shared link."""
    return _award_card(request, award_id, "card")


@require_safe
def credential_qr(request: HttpRequest, award_id: uuid.UUID) -> HttpResponse:
    """``/credentials/<id>/qr.svg``: the QR code the badge page shows. It opens the badge
    page (live status, verify button) marked ``src=qr``, so that scans are counted by
    channel. The image never changes for an award: any cache may keep it for a day."""
    if not Award.objects.filter(pk=award_id).exists():
        raise Http404
    url = credentials.absolute(reverse("credential", args=[award_id])) + "?src=qr"
    etag = f'"{fingerprint("qr", url)}"'
    cached = not_modified(request, etag, IMAGE_CACHE)
    if cached is not None:
        return cached
    response = HttpResponse(preview.qr_svg_document(url), content_type="image/svg+xml")
    response["ETag"] = etag
    response["Cache-Control"] = IMAGE_CACHE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SVG_CSP
    return response


@require_safe
def credential_wechat(request: HttpRequest, award_id: uuid.UUID) -> HttpResponse:
    """``/credentials/<id>/wechat.png``: a card to save and send in WeChat (QR plus title)."""
    return _award_card(request, award_id, "wechat")


def _version_context(version: AchievementVersion) -> dict[str, Any]:
    language = reader_language(version)
    return {
        "version": version,
        "language": language,
        "name": version.text("name", language),
        "description": version.text("description", language),
        "criteria_html": markdown.render(version.text("criteria", language)),
        "evidence_required": version.text("evidence_required", language),
        "issuer": version.achievement.issuer,
        "issuer_did": issuer_did(version.achievement.issuer),
        "version_url": credentials.version_url(version),
    }


@require_safe
def achievement(request: HttpRequest, achievement_id: uuid.UUID) -> HttpResponse:
    """``/achievements/<id>``: the current version and every version with what changed."""
    found = selectors.public_achievement(achievement_id)
    versions = list(selectors.published_versions(found).select_related("image"))
    latest = versions[-1]
    media = json_type(request, ("application/ld+json", "application/json"))
    if media is not None:
        language = reader_language(latest)
        return json_response(
            json.dumps(export.achievement_document(latest, language), ensure_ascii=False),
            media,
        )
    history = [
        {"version": v, "changes": found}
        for v, found in zip(versions, version_history(versions), strict=True)
    ]
    context = {**_version_context(latest), "history": list(reversed(history)), "is_latest": True}
    context["endorsements"] = endorsement_selectors.active_of_achievement(found)
    context["share"] = meta.achievement_meta(
        latest, name=context["name"], description=context["description"]
    )
    return _html(request, "badges/achievement.html", context)


@require_safe
def achievement_preview(request: HttpRequest, achievement_id: uuid.UUID) -> HttpResponse:
    """``/achievements/<id>/preview.png``: the share card of an achievement's latest version."""
    found = selectors.public_achievement(achievement_id)
    latest = selectors.published_versions(found).select_related("image").last()
    assert latest is not None  # noqa: S101 - public_achievement has a published version
    context = _version_context(latest)
    issuer = found.issuer
    card = preview.Card(
        title=context["name"],
        label=latest.get_achievement_type_display(),
        lines=[_("Issued by %(issuer)s") % {"issuer": issuer.name}],
        footer=issuer.institution.name,
        url=credentials.absolute(reverse("achievement", args=[found.pk])),
        colour=issuer.institution.brand_colour,
        image_png=_png_of(latest),
    )
    return _card_response(request, card)


@require_safe
def issuer_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """``/issuers/<slug>/preview.png``: the share card of an issuer's public profile."""
    issuer = get_object_or_404(Issuer.objects.select_related("institution", "image"), slug=slug)
    image = issuer.image
    card = preview.Card(
        title=issuer.name,
        label=_("Issuer"),
        lines=[issuer.institution.name],
        footer=issuer.url,
        url=credentials.absolute(reverse("issuer_profile", args=[issuer.slug])),
        colour=issuer.institution.brand_colour,
        image_png=bytes(image.data) if image and image.content_type == "image/png" else None,
    )
    return _card_response(request, card)


@require_safe
def achievement_version(
    request: HttpRequest, achievement_id: uuid.UUID, number: int
) -> HttpResponse:
    """``/achievements/<id>/v/<n>``: the ``id`` of the OB 3.0 Achievement in credentials."""
    version = selectors.public_version(achievement_id, number)
    media = json_type(request, ("application/ld+json", "application/json"))
    if media is not None:
        document = export.achievement_document(version, reader_language(version))
        return json_response(json.dumps(document, ensure_ascii=False), media)
    latest = selectors.published_versions(version.achievement).order_by("-number").first()
    context = {**_version_context(version), "is_latest": latest == version, "latest": latest}
    return _html(request, "badges/version.html", context)


@require_safe
def issuer_profile(request: HttpRequest, slug: str) -> HttpResponse:
    """``/issuers/<slug>``: the issuer's page for people, its OB 3.0 ``Profile`` (``id`` its
    did:web) for ``Accept: application/ld+json`` or ``application/json``."""
    issuer = get_object_or_404(Issuer.objects.select_related("institution"), slug=slug)
    media = json_type(request, ("application/ld+json", "application/json"))
    if media is not None:
        language = credentials.language_of(translation.get_language() or "en")
        document = credentials.profile_document(issuer, language)
        return json_response(json.dumps(document, ensure_ascii=False), media)
    context = {
        "issuer": issuer,
        "did": issuer_did(issuer),
        "achievements": selectors.published_achievements(issuer),
        "share": meta.issuer_meta(issuer),
        "endorsements": endorsement_selectors.active_of_issuer(issuer),
    }
    return _html(request, "issuers/profile.html", context)
