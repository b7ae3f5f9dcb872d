"""The Learner Credential Wallet's VC-API exchange endpoint and its deep link.

One URL per exchange, ``/lcw/exchanges/<exchange id>``, speaks the VC-API exchange
protocol as the LCW drives it (DCC learner-credential-wallet ``app/lib/exchanges.ts``; DCC
transaction-service; W3C CCG VC-API "exchanges"):

1. ``POST {}`` starts the exchange and answers a Verifiable Presentation Request asking for
   ``DIDAuthentication`` with the exchange's ``challenge`` and this site's ``domain``; its
   ``interact`` service is this same URL (older LCW versions post there, newer ones post
   back to the exchange URL: both are this URL).
2. ``POST {"verifiablePresentation": …}`` with the signed DIDAuth presentation answers
   ``{"verifiablePresentation": {"verifiableCredential": [credential]}}``: the learner's
   credential bound to the holder's DID (``ldp_vc``). A bare presentation (DCC's older
   "direct" flow) is read the same way.

``GET`` answers the VCALM interaction document ``{"protocols": {"vcapi": …}}`` and changes
nothing. Every refusal is JSON ``{"error": code, "message": text}`` with a 4xx status. The
wallet is sent here by ``https://lcw.app/request.html?request=<JSON>`` (the LCW's universal
link page, which opens ``dccrequest://request?request=<JSON>``) with the JSON
``{"credentialRequestOrigin": <this site>, "protocols": {"vcapi": <exchange URL>}}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

import segno
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from issuers.keys import SigningUnavailable
from wallets import services
from wallets.models import WalletOffer

LCW_REQUEST_PAGE: Final = "https://lcw.app/request.html"
LCW_SCHEME: Final = "dccrequest://request"
#: A DIDAuth presentation is about 1 KB; anything far larger is refused before parsing.
MAX_BODY_BYTES: Final = 64 * 1024
VP_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"


def exchange_url(exchange_id: str) -> str:
    """The absolute URL of an exchange, from ``settings.INSIGNIA_BASE_URL``."""
    path = reverse("wallets:lcw_exchange", kwargs={"exchange_id": exchange_id})
    return settings.INSIGNIA_BASE_URL.rstrip("/") + path


@dataclass(frozen=True)
class LcwLinks:
    """What the offer page shows for the Learner Credential Wallet."""

    wallet_url: str
    deep_link: str
    #: An inline SVG QR code of ``wallet_url`` (segno: paths only, no text from anyone).
    qr_svg: str
    expires_at: datetime


def lcw_links(offer: WalletOffer, exchange_id: str) -> LcwLinks:
    """The LCW universal link (also the QR code's content) and its ``dccrequest:`` twin."""
    request = json.dumps(
        {
            "credentialRequestOrigin": services.lcw_domain(),
            "protocols": {"vcapi": exchange_url(exchange_id)},
        },
        separators=(",", ":"),
    )
    encoded = quote(request, safe="")
    wallet_url = f"{LCW_REQUEST_PAGE}?request={encoded}"
    return LcwLinks(
        wallet_url=wallet_url,
        deep_link=f"{LCW_SCHEME}?request={encoded}",
        qr_svg=str(
            segno.make(wallet_url, error="m").svg_inline(
                scale=4, border=2, dark="#111111", light="#ffffff", omitsize=True
            )
        ),
        expires_at=offer.expires_at,
    )


def _refuse(error: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": error, "message": message}, status=status)


def _presentation_request(offer: WalletOffer, url: str) -> dict[str, Any]:
    # W3C CCG VP Request Spec §3.2 (DID Authentication); the shape DCC's exchanges answer.
    return {
        "verifiablePresentationRequest": {
            "query": [{"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}]}],
            "challenge": offer.challenge,
            "domain": services.lcw_domain(),
            "interact": {
                "service": [{"type": "UnmediatedPresentationService2021", "serviceEndpoint": url}]
            },
        }
    }


def _read_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    length = request.headers.get("Content-Length", "0")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return _refuse("too_large", _("The request body is too large."), 413)
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _refuse("malformed", _("The request body must be JSON."), 400)
    if not isinstance(body, dict):
        return _refuse("malformed", _("The request body must be a JSON object."), 400)
    return body


@csrf_exempt  # the wallet app posts; the exchange id and the DIDAuth proof authenticate it
@never_cache
@require_http_methods(["GET", "POST"])
def exchange(request: HttpRequest, exchange_id: str) -> HttpResponse:
    """One VC-API exchange with the Learner Credential Wallet (see the module doc)."""
    offer = services.lcw_offer_for(exchange_id)
    if offer is None:
        return _refuse("unknown_exchange", _("This exchange is not known."), 404)
    url = exchange_url(exchange_id)
    if request.method == "GET":
        return JsonResponse({"protocols": {"vcapi": url}})
    body = _read_body(request)
    if isinstance(body, JsonResponse):
        return body
    if "verifiablePresentation" in body:
        presentation: object = body["verifiablePresentation"]
    elif "proof" in body or "type" in body:
        presentation = body
    else:
        try:
            started = services.start_lcw_exchange(offer=offer)
        except services.WalletError as refusal:
            return _refuse(refusal.error, refusal.description, refusal.status)
        return JsonResponse(_presentation_request(started, url))
    try:
        delivery = services.deliver_lcw_credential(offer=offer, presentation=presentation)
    except services.WalletError as refusal:
        return _refuse(refusal.error, refusal.description, refusal.status)
    except SigningUnavailable as failure:
        # The issuer cannot sign right now (its key is unavailable): nothing was used up.
        return _refuse("signing_unavailable", str(failure), 503)
    return JsonResponse(
        {
            "verifiablePresentation": {
                "@context": [VP_CONTEXT],
                "type": ["VerifiablePresentation"],
                "verifiableCredential": [json.loads(delivery.credential)],
            }
        }
    )
