"""Public pages: a credential at its URL, an achievement and each of its versions, an
issuer's profile, and their share cards.

Each page is HTML for people and JSON for machines (content negotiation, DESIGN.md §4). A
credential's JSON is the exact stored text, served byte for byte. The badge page carries its
live state, sharing (LinkedIn, QR, embed, WeChat card) and Open Graph tags; share cards are
generated PNGs (``badges.preview``). The baked images are in ``badges.views``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from achievements.diff import changes
from badges import credentials, preview, selectors
from badges.credentials import reader_language
from badges.models import AchievementVersion, Award
from badges.state import award_state
from common import markdown
from common.http import json_response, json_type, not_modified
from earners import selectors as earner_selectors
from earners import services as earner_services
from frameworks.catalogue import export
from issuers.keys import issuer_did
from issuers.models import Issuer
from sharing import meta

CARD_CACHE = "public, max-age=3600"


def _html(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, template, context)
    response["Vary"] = "Accept, Accept-Language, Cookie"
    return response


@require_safe
def credential(request: HttpRequest, award_id: uuid.UUID, as_json: bool = False) -> HttpResponse:
    """``/credentials/<id>``: the signed credential as it was issued, or a page about it."""
    award = selectors.public_award(award_id)
    media = "application/json" if as_json else json_type(request)
    # One anonymous, bounded INSERT ("who viewed my badge"); never raises. A write on GET
    # on purpose: counting views is what the learner asked for (MISSION.md earner need 8).
    channel = earner_services.channel_of(request, is_json=media is not None)
    if channel is not None:
        earner_services.record_view(award=award, channel=channel)
    if media is not None:
        return json_response(award.credential_json.encode("utf-8"), media)
    document = award.credential
    subject = document.get("credentialSubject", {})
    achievement = subject.get("achievement", {})
    page_url = meta.badge_page_url(award)
    alignments = achievement.get("alignment", [])
    context = {
        "award": award,
        "document": document,
        "achievement": achievement,
        "criteria_html": markdown.render(achievement.get("criteria", {}).get("narrative", "")),
        "issuer": award.issuer,
        "institution": award.issuer.institution,
        "brand_text": preview.hex_colour(
            preview.brand_text(preview.rgb(award.issuer.institution.brand_colour))
        ),
        "evidence": document.get("evidence", []) if earner_selectors.show_evidence(award) else [],
        "noindex": not earner_selectors.is_indexable(award),
        "superseded_by": earner_selectors.superseded_by(award),
        "narrative": subject.get("narrative", ""),
        "version": award.achievement_version,
        "content_language": award.language,
        "state": award_state(award),
        "recipient_name": meta.recipient_display_name(award),
        "skills": [str(tag) for tag in achievement.get("tag", [])],
        "alignments": alignments if isinstance(alignments, list) else [],
        "credits": achievement.get("creditsAvailable"),
        "credits_earned": subject.get("creditsEarned"),
        "page_url": page_url,
        "verify_url": reverse("verify") + "?" + urlencode({"url": document.get("id", page_url)}),
        "linkedin_add_url": meta.linkedin_add_to_profile_url(award),
        "linkedin_share_url": meta.linkedin_share_url(page_url),
        "share": meta.award_meta(award),
        # The QR opens the badge page (live status, verify button) marked ``src=qr`` so that
        # scans are counted by channel.
        "qr_svg": preview.qr_svg(page_url + "?src=qr"),
        "embed_snippet": meta.embed_snippet(award),
        "download_name": f"badge-{award.pk}",
        "image_src": credentials.badge_image_path(award.achievement_version),
        "wechat_open": (translation.get_language() or "").startswith("zh"),
    }
    return _html(request, "badges/credential.html", context)


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


def _card_response(request: HttpRequest, card: preview.Card, kind: str = "card") -> HttpResponse:
    etag = _card_etag(card, kind)
    cached = not_modified(request, etag)
    if cached is not None:
        return cached
    if kind == "wechat":
        data = preview.wechat_png(card, _("Scan to view and verify this badge"))
    else:
        data = preview.card_png(card)
    response = HttpResponse(data, content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = CARD_CACHE
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def credential_preview(request: HttpRequest, award_id: uuid.UUID) -> HttpResponse:
    """``/credentials/<id>/preview.png``: the 1200x627 card crawlers show for a shared link."""
    return _card_response(request, _card(selectors.public_award(award_id)))


@require_safe
def credential_wechat(request: HttpRequest, award_id: uuid.UUID) -> HttpResponse:
    """``/credentials/<id>/wechat.png``: a card to save and send in WeChat (QR plus title)."""
    return _card_response(request, _card(selectors.public_award(award_id)), "wechat")


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
        {"version": v, "changes": changes(versions[i - 1], v) if i else []}
        for i, v in enumerate(versions)
    ]
    context = {**_version_context(latest), "history": list(reversed(history)), "is_latest": True}
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
    }
    response = render(request, "issuers/profile.html", context)
    response["Vary"] = "Accept, Accept-Language, Cookie"
    return response
