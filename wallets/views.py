"""The learner's "Send to your wallet" page: a fresh offer as a QR code and deep link.

Two doors to one page: the signed-in learner's backpack (``/backpack/badges/<id>/wallet/``)
and the claim link from the award e-mail (``/claim/<token>/wallet/``; the signed token is the
key, as on the claim page). A GET shows the badge and its past deliveries and writes nothing;
the POST creates the offers (OID4VCI and the Learner Credential Wallet's exchange) and shows
their secrets in the answer only, which is never cached and never stored in clear.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import User
from badges import credentials
from badges.models import Award
from badges.notifications import links
from badges.state import award_state
from earners import selectors as earner_selectors
from earners.views import learner
from issuers.keys import SigningUnavailable
from wallets import binding, metadata, services, vcapi
from wallets.models import Delivery

OFFER_SCHEME = "openid-credential-offer://"


def qr_svg(text: str) -> str:
    """An inline SVG QR code of ``text`` (segno draws it from the text alone)."""
    svg = segno.make(text, error="m").svg_inline(
        scale=4, border=2, dark="#111111", light="#ffffff", omitsize=True
    )
    return str(svg)  # marked safe in the template: segno's SVG of a URL we built, no text


def _page(request: HttpRequest, award: Award, *, actor: User | None, back: str) -> HttpResponse:
    context: dict[str, Any] = {
        "award": award,
        "name": credentials.credential_name(award),
        "issuer_name": credentials.issuer_name(award),
        "state": award_state(award),
        "back_url": back,
        "deliveries": Delivery.objects.filter(award=award).order_by("-delivered_at")[:50],
    }
    if request.method == "POST":
        try:
            new = services.create_offer(award=award, actor=actor)
            exchange = services.create_lcw_offer(award=award, actor=actor)
        except binding.NotDeliverable as refusal:
            messages.error(request, str(refusal))
        except SigningUnavailable as failure:
            messages.error(request, str(failure))
        else:
            deep_link = (
                OFFER_SCHEME
                + "?"
                + urlencode({"credential_offer_uri": metadata.offer_uri(new.code)})
            )
            context.update(
                offer=new.offer,
                deep_link=deep_link,
                qr=qr_svg(deep_link),
                tx_code_sent_to=new.tx_code_sent_to,
                lcw=vcapi.lcw_links(exchange.offer, exchange.exchange_id),
            )
    return render(request, "wallets/offer.html", context)


@learner
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def offer_page(request: HttpRequest, user: User, award_id: uuid.UUID) -> HttpResponse:
    """The signed-in learner's own badge only (404 for anyone else's)."""
    award = earner_selectors.award_of(user, award_id)
    return _page(request, award, actor=user, back=reverse("earners:badge", args=[award.pk]))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def claim_offer_page(request: HttpRequest, token: str) -> HttpResponse:
    """The same page for whoever holds the award e-mail's claim link."""
    award_id = links.award_for_token(token)
    if award_id is None:
        raise Http404
    award = get_object_or_404(
        Award.objects.select_related("issuer", "achievement_version"), pk=award_id
    )
    actor = request.user if isinstance(request.user, User) else None
    return _page(request, award, actor=actor, back=reverse("claim", args=[token]))
