"""The OID4VCI 1.0 endpoints a wallet calls (pre-authorized code flow).

Metadata (GET, public), the credential offer behind ``credential_offer_uri`` (GET), then
POSTs: the token endpoint (form-encoded, OID4VCI 1.0 §6), the nonce endpoint (§7) and the
credential endpoint (§8, bearer token, JSON). None of them uses cookies, so they are exempt
from CSRF; refusals are OAuth-style JSON ``{"error", "error_description"}``. Answers carrying
a secret say ``Cache-Control: no-store``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from issuers.keys import SigningUnavailable
from wallets import metadata, proofs, services
from wallets.binding import UnsupportedFormat
from wallets.models import CredentialFormat


def _json(body: dict[str, Any], status: int = 200, *, store: bool = False) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    if store:
        # Public metadata: any web wallet may read it (OID4VCI 1.0 §12.2.2).
        response["Cache-Control"] = "public, max-age=300"
        response["Access-Control-Allow-Origin"] = "*"
    else:
        # RFC 6749 §5.1: answers carrying a secret (or a nonce) are never cached.
        response["Cache-Control"] = "no-store"
    return response


def _error(failure: services.WalletError) -> JsonResponse:
    response = _json(
        {"error": failure.error, "error_description": failure.description}, failure.status
    )
    if failure.status == 401:
        response["WWW-Authenticate"] = f'Bearer error="{failure.error}"'
    return response


@require_GET
def issuer_metadata(request: HttpRequest) -> HttpResponse:
    return _json(metadata.issuer_metadata(), store=True)


@require_GET
def authorization_server_metadata(request: HttpRequest) -> HttpResponse:
    return _json(metadata.authorization_server_metadata(), store=True)


@require_GET
def credential_offer(request: HttpRequest, code: str) -> HttpResponse:
    """The offer document a wallet fetches from ``credential_offer_uri`` (§4.1.3). A used
    or expired offer is still described: the token endpoint then says why it is refused."""
    offer = services.offer_for_code(code)
    if offer is None:
        return _error(services.WalletError("invalid_request", "This offer is not known.", 404))
    return _json(metadata.credential_offer(code, tx_code_length=offer.tx_code_length))


@csrf_exempt  # a wallet posts here with no cookie; the pre-authorized code is the credential
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    if request.POST.get("grant_type") != metadata.PRE_AUTHORIZED_GRANT:
        return _error(
            services.WalletError(
                "unsupported_grant_type", "Only the pre-authorized code grant is supported."
            )
        )
    code = request.POST.get("pre-authorized_code", "")
    if not code:
        return _error(services.WalletError("invalid_request", "pre-authorized_code is missing."))
    try:
        issued = services.redeem_code(code=code, tx_code=request.POST.get("tx_code"))
    except services.WalletError as failure:
        return _error(failure)
    return _json(
        {"access_token": issued.token, "token_type": "Bearer", "expires_in": issued.expires_in}
    )


@csrf_exempt  # no cookie; a nonce is no secret, only single-use
@require_POST
def nonce(request: HttpRequest) -> HttpResponse:
    return _json({"c_nonce": services.issue_nonce()})


def _bearer(request: HttpRequest) -> str:
    scheme, _space, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _one_proof(body: dict[str, Any]) -> Any:
    """The single ``jwt`` key proof of a credential request (§8.2: ``proofs``)."""
    proofs_value = body.get("proofs")
    if proofs_value is None:
        raise services.WalletError("invalid_proof", "The credential request carries no proofs.")
    if not isinstance(proofs_value, dict) or set(proofs_value) != {"jwt"}:
        raise services.WalletError("invalid_proof", "Only jwt key proofs are supported.")
    jwts = proofs_value["jwt"]
    if not isinstance(jwts, list) or len(jwts) != 1:
        raise services.WalletError("invalid_proof", "Send exactly one jwt key proof.")
    return jwts[0]


def _format_of(body: dict[str, Any]) -> str:
    if "credential_identifier" in body:
        raise services.WalletError(
            "invalid_credential_request", "Ask by credential_configuration_id."
        )
    configuration = body.get("credential_configuration_id")
    fmt = metadata.CONFIGURATIONS.get(configuration) if isinstance(configuration, str) else None
    if fmt is None:
        raise services.WalletError(
            "unknown_credential_configuration",
            f"Credential configurations offered: {', '.join(metadata.CONFIGURATIONS)}.",
        )
    return str(fmt)


@csrf_exempt  # a wallet posts here with a bearer token, never a cookie
@require_POST
def credential(request: HttpRequest) -> HttpResponse:
    """Check the access token, the request and the holder's key proof, then deliver."""
    try:
        offer = services.offer_for_token(_bearer(request))
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise services.WalletError(
                "invalid_credential_request", "The request body is not a JSON object."
            )
        fmt = _format_of(body)
        try:
            holder = proofs.verify_key_proof(
                _one_proof(body),
                audience=metadata.credential_issuer(),
                now=timezone.now(),
                max_age=timedelta(seconds=settings.INSIGNIA_WALLET_NONCE_SECONDS),
            )
        except proofs.ProofError as refusal:
            raise services.WalletError(refusal.error, refusal.description) from None
        delivery = services.deliver(
            offer=offer, holder_id=holder.holder_id, fmt=fmt, nonce=holder.nonce
        )
    except services.WalletError as failure:
        return _error(failure)
    except UnsupportedFormat:
        return _error(services.WalletError("unsupported_credential_format", "Not offered."))
    except SigningUnavailable:
        return _error(
            services.WalletError(
                "server_error", "The issuer cannot sign credentials right now.", 503
            )
        )
    issued: Any = (
        json.loads(delivery.credential)
        if delivery.format == CredentialFormat.LDP_VC
        else delivery.credential
    )
    return _json({"credentials": [{"credential": issued}]})
