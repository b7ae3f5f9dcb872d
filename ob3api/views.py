"""The learner's side of the Open Badges API: approving a wallet (the OAuth 2.0 authorisation
endpoint, with the learner's sign-in and a consent page in the backpack's look), the
"Connected apps" page where they disconnect one, and the page on what a connected app may do.

The authorisation endpoint is django-oauth-toolkit's ``AuthorizationView`` for wallets only
(an institution's client is approved at ``/oauth/authorize/``), with PKCE ``S256`` required
before the consent page is shown (OB 3.0 §6.2; RFC 9700 §2.1.1). Tokens, refresh and
revocation are DOT's ``/oauth/token/`` and ``/oauth/revoke/``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views import AuthorizationView
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error  # type: ignore[import-untyped]

from accounts.models import User
from earners.views import learner
from integrations.models import ApiClient
from integrations.oauth import scopes as scope_names
from ob3api import selectors, services

PKCE_METHOD = "S256"
IGNORED_SCOPE = "offline_access"


def wallet_client(client_id: str) -> ApiClient | None:
    """The registered, unrevoked wallet with this ``client_id``, if any."""
    if not client_id:
        return None
    return (
        ApiClient.objects.select_related("application")
        .filter(
            application__client_id=client_id,
            kind=ApiClient.Kind.WALLET,
            revoked_at__isnull=True,
        )
        .first()
    )


def scope_rows(scopes: list[str]) -> list[dict[str, str]]:
    """Each Open Badges scope with what it lets an app do, in the reader's language."""
    return [
        {"scope": s, "text": str(scope_names.WALLET_SCOPES[s])}
        for s in scopes
        if s in scope_names.WALLET_SCOPES
    ]


class WalletAuthorizationView(AuthorizationView):
    """``/ims/ob/v3p0/authorize``: the learner signs in (the backpack's sign-in) and approves
    or denies a wallet; approving is remembered for the "Connected apps" page."""

    template_name = "ob3api/consent.html"
    login_url = reverse_lazy("earners:login")

    def _refuse(self, request: HttpRequest, description: str) -> HttpResponse:
        # Never redirected: the client is unknown here, so its redirect URI is not trusted.
        error = {"error": "unauthorized_client", "description": description}
        return render(request, self.template_name, {"error": error}, status=400)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if wallet_client(request.GET.get("client_id", "")) is None:
            return self._refuse(request, _("This app is not registered as a wallet here."))
        asked = request.GET.get("scope", "").split()
        if IGNORED_SCOPE in asked:
            # The spec's examples ask for "offline_access"; refresh tokens come anyway, so
            # the same request is made again without it rather than refused.
            query = request.GET.copy()
            query["scope"] = " ".join(s for s in asked if s != IGNORED_SCOPE)
            return redirect(f"{request.path}?{query.urlencode()}")
        response: HttpResponse = super().get(request, *args, **kwargs)
        return response

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if wallet_client(request.POST.get("client_id", "")) is None:
            return self._refuse(request, _("This app is not registered as a wallet here."))
        if request.POST.get("code_challenge_method") != PKCE_METHOD:
            return self._refuse(request, _("The app did not use PKCE with S256."))
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response

    def validate_authorization_request(self, request: HttpRequest) -> tuple[Any, Any]:
        scopes, credentials = super().validate_authorization_request(request)
        # DOT refuses "plain" only when the code is issued, after the learner approved;
        # refuse it (and a missing method, which means "plain") before asking them. OB 3.0
        # §6.2 also makes ``state`` required (the client's CSRF protection).
        problem = ""
        if request.GET.get("code_challenge_method") != PKCE_METHOD:
            problem = "PKCE is required with code_challenge_method=S256."
        elif not credentials.get("state"):
            problem = "state is required."
        if problem:
            raise OAuthToolkitError(
                error=CustomOAuth2Error(
                    error="invalid_request", description=problem, state=credentials.get("state")
                ),
                redirect_uri=credentials.get("redirect_uri"),
            )
        return scopes, credentials

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        application = kwargs.get("application")
        client = wallet_client(application.client_id) if application is not None else None
        if client is not None:
            context["client"] = client
            context["metadata"] = client.metadata
            context["scope_rows"] = scope_rows(list(kwargs.get("scopes", [])))
            context["return_host"] = urlsplit(str(kwargs.get("redirect_uri", ""))).netloc
        return context

    def create_authorization_response(
        self, request: HttpRequest, scopes: str, credentials: dict[str, Any], allow: bool
    ) -> tuple[Any, Any, Any, Any]:
        answer: tuple[Any, Any, Any, Any] = super().create_authorization_response(
            request, scopes, credentials, allow
        )
        client = wallet_client(str(credentials.get("client_id", "")))
        if allow and client is not None and isinstance(request.user, User):
            services.record_consent(user=request.user, client=client, scopes=scopes.split())
        return answer


@learner
@require_http_methods(["GET", "HEAD", "POST"])
def connected_apps(request: HttpRequest, user: User) -> HttpResponse:
    """The wallets the learner approved, what each may do, and "Disconnect"."""
    if request.method == "POST":
        consent = selectors.consent_for(user, request.POST.get("consent", ""))
        if consent is None:
            raise Http404
        name = consent.client.application.name
        services.disconnect_wallet(user=user, consent=consent)
        messages.success(
            request,
            _("%(name)s is disconnected: it can no longer reach your badges or profile.")
            % {"name": name},
        )
        return redirect("ob3api:connected_apps")
    rows = [
        {
            "consent": consent,
            "name": consent.client.application.name,
            "client_uri": consent.client.metadata.get("client_uri", ""),
            "policy_uri": consent.client.metadata.get("policy_uri", ""),
            "scopes": scope_rows(consent.scope_list),
        }
        for consent in selectors.consents_of(user)
    ]
    return render(request, "ob3api/connected_apps.html", {"rows": rows})


@require_safe
def about(request: HttpRequest) -> HttpResponse:
    """What an app connected to a backpack may do, and the rules it follows (the Open Badges
    API's terms of service and privacy policy, linked from the discovery document)."""
    return render(request, "ob3api/about.html")
