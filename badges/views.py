"""The badges app's public machine endpoints: a credential's baked images, a version's badge
image, and the Open Badges 2.0 hosted objects for legacy backpacks (DESIGN.md §5).

``/credentials/<id>.png`` and ``.svg`` are the badge image with the exact signed credential
baked in (spliced on request, cacheable). ``/ob2/assertions/<id>`` (``Assertion``,
``verification.type`` hosted), ``/ob2/badges/<id>`` and ``/ob2/badges/<id>/v/<n>``
(``BadgeClass``), ``/ob2/issuers/<slug>`` (``Issuer``) are JSON-LD on the issuer's origin; a
revoked assertion answers HTTP 410 with ``{"revoked": true, "revocationReason": …}`` (research
§4.2), and so does a suspended one while the suspension lasts (OB 2.0 has no suspension; its
one way to say "do not accept this" is ``revoked``, docs/status-lists.md), and
``/ob2/assertions/<id>.png`` is the badge with the hosted assertion baked in. The OB 3.0
credential stays the source of truth; these are views of the same award.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_safe

from badges import baked, credentials, selectors
from badges.models import AchievementVersion, Award
from badges.state import award_state
from common.http import (
    REVALIDATE,
    cached_body,
    fields_of,
    fingerprint,
    json_response,
    json_type,
    not_modified,
)
from issuers.models import Issuer
from openbadges import ob2, ob3

LD_TYPES = ("application/ld+json", "application/json")


# What a baked image or the hosted assertion of an award shows, digested by PostgreSQL in
# one round trip: the award's row whole (the signed text, status, reason), its version's
# (image, names) and the institution's colour (a generated emblem's). Compiling the
# equivalent ORM query cost more CPU than serving the cached bytes.
STATE_SQL = """
SELECT a.status, a.valid_until, md5(concat_ws('|', a::text, v::text, n.brand_colour))
FROM badges_award a
JOIN badges_achievementversion v ON v.id = a.achievement_version_id
JOIN issuers_issuer i ON i.id = a.issuer_id
JOIN issuers_institution n ON n.id = i.institution_id
WHERE a.id = %s
"""


def _award(award_id: uuid.UUID) -> Award:
    """The award with what its images and hosted assertion show: its row, issuer,
    institution and version; 404 if none."""
    found = (
        Award.objects.select_related("issuer__institution", "achievement_version")
        .filter(pk=award_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _state(award_id: uuid.UUID) -> tuple[str, str, Award | None]:
    """A digest of what the award's images and assertion show, its live state, and the award
    when reading them loaded it (not on PostgreSQL: one query there, the award is loaded
    only when the bytes are made). 404 if there is no such award."""
    if connection.vendor != "postgresql":
        award = _award(award_id)
        version = award.achievement_version
        digest = fingerprint(
            fields_of(award), fields_of(version), award.issuer.institution.brand_colour
        )
        return digest, award_state(award).state, award
    with connection.cursor() as cursor:
        cursor.execute(STATE_SQL, [award_id])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    status, valid_until, digest = row
    return digest, award_state(Award(status=status, valid_until=valid_until)).state, None


@require_safe
def credential_baked(request: HttpRequest, award_id: uuid.UUID, fmt: str) -> HttpResponse:
    """``/credentials/<id>.png`` and ``.svg``: the badge image with the signed credential
    baked in (OB 3.0 docformat §Baked Badge), spliced once and kept in the cache; the text
    is exact."""
    image_format: baked.Format = "svg" if fmt == "svg" else "png"
    digest, _live, loaded = _state(award_id)
    etag = f'"{fingerprint("baked", image_format, digest)}"'
    cached = not_modified(request, etag, baked.IMAGE_CACHE)
    if cached is not None:
        return cached

    def make() -> bytes:
        return baked.baked(loaded or _award(award_id), image_format)

    data = cached_body(f"page:baked:{award_id}:{etag}", make)
    return baked.image_response(data, image_format, etag, f"badge-{award_id}")


@require_safe
def achievement_image(request: HttpRequest, achievement_id: uuid.UUID, number: int) -> HttpResponse:
    """The badge image of a version (unbaked): the stored image, or a generated emblem."""
    version = selectors.public_version(achievement_id, number)
    image = version.image
    if image is not None and image.content_type in baked.CONTENT_TYPES.values():
        return HttpResponseRedirect(reverse("image", args=[version.image_id]))
    issuer = version.achievement.issuer
    data = baked.emblem_png(version.name, issuer.institution.brand_colour)
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _respond(request: HttpRequest, document: dict[str, Any], status: int = 200) -> HttpResponse:
    return _respond_bytes(request, json.dumps(document, ensure_ascii=False, indent=2), status)


def _respond_bytes(request: HttpRequest, body: str | bytes, status: int = 200) -> HttpResponse:
    media = json_type(request, LD_TYPES) or "application/ld+json"
    response = json_response(body, media)
    response.status_code = status
    return response


def assertion_url(award: Award) -> str:
    return credentials.absolute(reverse("ob2_assertion", args=[award.pk]))


def badge_url(version: AchievementVersion) -> str:
    return credentials.absolute(
        reverse("ob2_badge_version", args=[version.achievement_id, version.number])
    )


def issuer_url(issuer: Issuer) -> str:
    return credentials.absolute(reverse("ob2_issuer", args=[issuer.slug]))


def assertion_document(award: Award) -> dict[str, Any]:
    document = json.loads(award.credential_json)
    subject = document.get("credentialSubject", {})
    evidence = [
        ob2.Evidence(id=item.get("id"), narrative=item.get("narrative"))
        for item in document.get("evidence", [])
        if isinstance(item, dict)
    ]
    return ob2.assertion_json(
        ob2.Assertion(
            id=assertion_url(award),
            badge=badge_url(award.achievement_version),
            identity_hash=award.recipient_email_hash,
            identity_type="email"
            if award.recipient_email
            else ob3.IDENTITY_TYPES[award.recipient_identifier_type],
            salt=award.salt,
            issued_on=award.valid_from,
            expires=award.valid_until,
            image=credentials.absolute(reverse("ob2_assertion_png", args=[award.pk])),
            narrative=subject.get("narrative") or None,
            evidence=evidence,
        )
    )


@require_safe
def assertion(request: HttpRequest, award_id: uuid.UUID) -> HttpResponse:
    """The hosted ``Assertion``; HTTP 410 Gone with the reason once revoked, and while it is
    suspended (the reason then starts "Suspended"): an OB 2.0 verifier knows no other way
    to refuse it. A reinstated badge answers 200 again. Made once per state of the award
    and kept in the cache; caches must revalidate (``REVALIDATE``), so the status is exact."""
    digest, live, loaded = _state(award_id)
    etag = f'"{fingerprint("ob2", digest, live, settings.INSIGNIA_BASE_URL)}"'
    cached = not_modified(request, etag, REVALIDATE)
    if cached is not None:
        return cached

    def make() -> bytes:
        award = loaded or _award(award_id)
        state = award_state(award)
        status, document = 200, None
        if state.is_revoked or state.is_suspended:
            reason = state.reason
            if state.is_suspended:
                reason = f"Suspended: {reason}" if reason else "Suspended"
            status, document = 410, ob2.revoked_assertion_json(assertion_url(award), reason)
        else:
            document = assertion_document(award)
        text = json.dumps(document, ensure_ascii=False, indent=2)
        return f"{status}{text}".encode()

    answer = cached_body(f"page:ob2:{award_id}:{etag}", make)
    response = _respond_bytes(request, answer[3:], int(answer[:3]))
    response["ETag"] = etag
    response["Cache-Control"] = REVALIDATE
    return response


@require_safe
def assertion_png(request: HttpRequest, award_id: uuid.UUID) -> HttpResponse:
    """The badge PNG with the OB 2.0 hosted assertion baked in, for OB 2.0 backpacks."""
    digest, _live, loaded = _state(award_id)
    etag = f'"{fingerprint("ob2-png", digest, settings.INSIGNIA_BASE_URL)}"'
    cached = not_modified(request, etag, baked.IMAGE_CACHE)
    if cached is not None:
        return cached

    def make() -> bytes:
        award = loaded or _award(award_id)
        document = assertion_document(award)
        payload = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        return baked.baked(award, "png", payload=payload, ob2=True)

    data = cached_body(f"page:baked:{award_id}:{etag}", make)
    return baked.image_response(data, "png", etag, f"badge-{award_id}-ob2")


def badge_document(version: AchievementVersion) -> dict[str, Any]:
    language = credentials.reader_language(version)
    issuer = version.achievement.issuer
    return ob2.badge_class_json(
        ob2.BadgeClass(
            id=badge_url(version),
            name=version.text("name", language),
            description=version.text("description", language),
            image=credentials.absolute(
                reverse("achievement_image", args=[version.achievement_id, version.number])
            ),
            criteria_narrative=version.text("criteria", language),
            criteria_url=credentials.version_url(version),
            issuer=issuer_url(issuer),
            tags=[str(tag) for tag in version.tags],
        )
    )


@require_safe
def badge(request: HttpRequest, achievement_id: uuid.UUID) -> HttpResponse:
    """The ``BadgeClass`` of the achievement's latest published version."""
    found = selectors.public_achievement(achievement_id)
    latest = selectors.published_versions(found).select_related("achievement__issuer").last()
    assert latest is not None  # noqa: S101 - public_achievement has a published version
    return _respond(request, badge_document(latest))


@require_safe
def badge_version(request: HttpRequest, achievement_id: uuid.UUID, number: int) -> HttpResponse:
    """The ``BadgeClass`` of one published version (what an assertion was awarded under)."""
    return _respond(request, badge_document(selectors.public_version(achievement_id, number)))


@require_safe
def issuer(request: HttpRequest, slug: str) -> HttpResponse:
    """The OB 2.0 ``Issuer`` profile (``name``, ``url`` and ``email`` are required)."""
    found = get_object_or_404(Issuer, slug=slug)
    return _respond(
        request,
        ob2.issuer_json(
            ob2.Issuer(
                id=issuer_url(found),
                name=found.name,
                url=found.url,
                email=found.email,
                description=found.description or None,
                image=credentials.image_url(found.image_id) if found.image_id else None,
            )
        ),
    )
