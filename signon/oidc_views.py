"""OpenID Connect sign-in pages: send the browser to the institution's provider, and take
it back at the callback (``signon.oidc`` does the protocol, ``signon.services`` the rest).

Every refusal is a page in the person's language with a 4xx status (502 when the provider
itself failed), and the technical reason goes to the log, never to the page.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from signon import oidc, services
from signon.models import IdentityProvider, PendingSignIn, Protocol

logger = logging.getLogger(__name__)


def _provider(institution: str) -> IdentityProvider | None:
    provider = (
        IdentityProvider.objects.select_related("institution")
        .filter(institution__slug=institution, protocol=Protocol.OIDC, enabled=True)
        .first()
    )
    if provider is None or not (provider.oidc_issuer and provider.oidc_client_id):
        return None
    return provider


def _redirect_uri(request: HttpRequest, provider: IdentityProvider) -> str:
    return request.build_absolute_uri(
        reverse("signon:oidc_callback", args=[provider.institution.slug])
    )


def _refused(
    request: HttpRequest,
    institution: str,
    message: str,
    *,
    status: int,
    reason: str,
    provider: IdentityProvider | None = None,
) -> HttpResponse:
    logger.warning(
        "OpenID Connect sign-in at %s refused (%s): %s",
        institution,
        provider.pk if provider else "no provider",
        reason,
    )
    context = {
        "message": message,
        "retry_url": reverse("signon:oidc_login", args=[institution]) if provider else "",
    }
    return render(request, "signon/error.html", context, status=status)


def _not_offered(request: HttpRequest, institution: str) -> HttpResponse:
    return _refused(
        request,
        institution,
        _("This institution does not offer sign-in through OpenID Connect."),
        status=404,
        reason="no enabled, configured OpenID Connect provider",
    )


@never_cache
@require_GET
def login(request: HttpRequest, institution: str) -> HttpResponse:
    """Start a sign-in: remember it (state, nonce, PKCE verifier) and send the browser to the
    provider's authorisation endpoint."""
    provider = _provider(institution)
    if provider is None:
        return _not_offered(request, institution)
    try:
        oidc.refresh_if_stale(provider)
    except oidc.DiscoveryError as error:
        return _refused(
            request,
            institution,
            _unreachable(),
            status=502,
            reason=error.reason,
            provider=provider,
        )
    state, nonce, code_verifier = oidc.new_request_secrets()
    _pending, cookie = services.start(
        request,
        provider,
        key=state,
        next_url=request.GET.get("next", ""),
        nonce=nonce,
        code_verifier=code_verifier,
    )
    response = redirect(
        oidc.authorization_url(
            provider,
            redirect_uri=_redirect_uri(request, provider),
            state=state,
            nonce=nonce,
            code_verifier=code_verifier,
        )
    )
    response.set_cookie(
        services.BROWSER_COOKIE,
        cookie,
        max_age=int(services.PENDING_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


def _unreachable() -> str:
    return _(
        "Your institution's sign-in service cannot be reached right now. Please try again later."
    )


def _authorization_code(provider: IdentityProvider, params: Mapping[str, str]) -> str:
    """The code in the provider's answer at our callback, or :class:`Refusal` for an error
    answer or one from another issuer (RFC 9207 ``iss``, against mix-up attacks)."""
    error = params.get("error")
    if error:
        raise oidc.Refusal(
            _error_message(error),
            status=403,
            reason=f"provider answered error={error[:100]!r} "
            f"description={params.get('error_description', '')[:300]!r}",
        )
    iss = params.get("iss")
    iss_promised = provider.oidc_discovery.get("authorization_response_iss_parameter_supported")
    if (iss is not None and iss != provider.oidc_issuer) or (iss is None and iss_promised):
        raise oidc.not_accepted(f"authorization response iss {iss!r}")
    code = params.get("code", "")
    if not code:
        raise oidc.Refusal(
            _("This sign-in link is incomplete. Please start again."),
            status=400,
            reason="no code in the authorization response",
        )
    return code


def _error_message(error: str) -> str:
    if error == "access_denied":
        return _(
            "The sign-in was cancelled at your institution, or your institution did not allow it."
        )
    if error in ("temporarily_unavailable", "server_error"):
        return _(
            "Your institution's sign-in service is not available right now. Please try again later."
        )
    return _(
        "Your institution's sign-in service refused the request. If this keeps happening, "
        "please tell your institution's IT team."
    )


def _take(request: HttpRequest, provider: IdentityProvider, state: str) -> PendingSignIn:
    if not state:
        raise oidc.Refusal(
            _("This sign-in link is incomplete. Please start again."),
            status=400,
            reason="no state in the authorization response",
        )
    try:
        return services.take_pending(request, provider, state, same_browser=True)
    except services.SignInRefused as refused:
        raise oidc.Refusal(
            refused.message, status=400, reason=f"state: {refused.message}"
        ) from None


@never_cache
@require_GET
def callback(request: HttpRequest, institution: str) -> HttpResponse:
    """The provider sends the browser back here with a code (or an error): check it belongs
    to a sign-in this browser started, exchange it, check the ID token, sign the person in."""
    provider = _provider(institution)
    if provider is None:
        return _not_offered(request, institution)
    params = request.GET
    try:
        if params.get("error"):
            # The started sign-in is over either way; the provider's answer is what to show.
            with contextlib.suppress(services.SignInRefused):
                if params.get("state"):
                    services.take_pending(request, provider, params["state"])
            _authorization_code(provider, params)
        pending = _take(request, provider, params.get("state", ""))
        oidc.refresh_if_stale(provider)
        code = _authorization_code(provider, params)
        tokens = oidc.exchange_code(
            provider,
            code=code,
            redirect_uri=_redirect_uri(request, provider),
            code_verifier=pending.code_verifier,
        )
        id_claims = oidc.validate_id_token(
            provider,
            tokens["id_token"],
            nonce=pending.nonce,
            access_token=tokens["access_token"],
        )
        subject = str(id_claims["sub"])
        userinfo = oidc.fetch_userinfo(provider, tokens["access_token"], subject)
        # The signed ID token wins where both say something.
        claims = services.claims_from(provider, subject, {**userinfo, **id_claims})
        user = services.complete(
            request,
            provider,
            claims,
            link_user=pending.link_user,
            session_extra={"protocol": Protocol.OIDC.value},
        )
    except oidc.Refusal as refusal:
        return _refused(
            request,
            institution,
            refusal.message,
            status=refusal.status,
            reason=refusal.reason,
            provider=provider,
        )
    except oidc.DiscoveryError as error:
        return _refused(
            request,
            institution,
            _unreachable(),
            status=502,
            reason=error.reason,
            provider=provider,
        )
    except services.SignInRefused as refused:
        return _refused(
            request,
            institution,
            refused.message,
            status=403,
            reason=refused.message,
            provider=provider,
        )
    return redirect(services.landing(user, provider, pending.next_url))
