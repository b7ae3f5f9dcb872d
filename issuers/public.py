"""Public issuer identity: the human profile, its JSON-LD ``Profile`` and the DID document.

``/issuers/<slug>`` is HTML for people and an OB 3.0 ``Profile`` (``id`` = the did:web) for
``Accept: application/ld+json`` or ``application/json``; ``/issuers/<slug>/did.json`` is
the did:web document (DESIGN.md §5).
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.http import require_safe

from badges import credentials, selectors, sharing
from badges.negotiation import json_type
from badges.public import json_response
from issuers import keys
from issuers.models import Issuer


def _issuer(slug: str) -> Issuer:
    return get_object_or_404(Issuer.objects.select_related("institution"), slug=slug)


@require_safe
def profile(request: HttpRequest, slug: str) -> HttpResponse:
    issuer = _issuer(slug)
    media = json_type(request, ("application/ld+json", "application/json"))
    if media is not None:
        language = credentials.language_of(translation.get_language() or "en")
        document = credentials.profile_document(issuer, language)
        return json_response(json.dumps(document, ensure_ascii=False), media)
    context = {
        "issuer": issuer,
        "did": keys.issuer_did(issuer),
        "achievements": selectors.published_achievements(issuer),
        "share": sharing.issuer_meta(issuer),
    }
    response = render(request, "issuers/profile.html", context)
    response["Vary"] = "Accept, Accept-Language, Cookie"
    return response


@require_safe
def did_document(request: HttpRequest, slug: str) -> HttpResponse:
    """The issuer's did:web document: active and retired keys, never withdrawn ones."""
    issuer = _issuer(slug)
    media = json_type(request, ("application/did+json", "application/json")) or "application/json"
    response = json_response(json.dumps(keys.did_document(issuer), indent=2), media)
    # A withdrawn key must stop verifying soon: keep caches short.
    response["Cache-Control"] = "public, max-age=300"
    return response
