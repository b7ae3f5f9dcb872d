"""The console's OAuth pages: an institution's API clients (owners register and revoke them),
a person's own API access (staff tokens and the apps they approved), and the consent page an
app acting for a staff member sends them to (``StaffAuthorizationView``).

A new client's secret and a new token's key are rendered in the answer to the POST that made
them and nowhere else: not in the session or a message (both are stored), and the answer is
not cached.
"""

from __future__ import annotations

import base64
import hashlib
import shlex
import uuid
from typing import Any
from urllib.parse import unquote_plus, urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from oauth2_provider.models import AccessToken
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView, IntrospectTokenView

from integrations.models import ApiClient, StaffToken
from integrations.oauth import scopes as scope_names
from integrations.oauth import selectors, services
from integrations.oauth.forms import PEOPLE, ClientForm, StaffTokenForm
from issuers import selectors as issuer_selectors
from issuers.console import (
    apply_errors,
    console,
    console_context,
    personal,
    request_user,
    two_step_page,
)
from issuers.models import Institution, Role
from issuers.permissions import is_member, role_in

# Where the examples call the API once they hold a token.
EXAMPLE_API_PATH = "/api/v1/awards"


def _url(path: str) -> str:
    return settings.INSIGNIA_BASE_URL + path


def token_example(client: ApiClient, secret: str) -> str:
    """A ``curl`` command that gets an access token with the client's own credentials.

    Client ids are letters and digits and secrets URL-safe base64, so double quotes are
    enough."""
    return (
        f"curl -X POST {shlex.quote(_url(reverse('oauth2_provider:token')))} \\\n"
        f'  -u "{client.application.client_id}:{secret}" \\\n'
        f"  -d grant_type=client_credentials \\\n"
        f'  -d scope="{client.scopes}"'
    )


def call_example() -> str:
    """A ``curl`` command that calls the API with the access token got first."""
    return (
        f'curl {shlex.quote(_url(EXAMPLE_API_PATH))} \\\n  -H "Authorization: Bearer $ACCESS_TOKEN"'
    )


def authorize_example(client: ApiClient) -> str:
    """The address an app sends a colleague to, with PKCE (S256) placeholders."""
    first = client.application.redirect_uris.split()[0]
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.application.client_id,
            "redirect_uri": first,
            "scope": client.scopes,
            "state": "STATE",
            "code_challenge": "CODE_CHALLENGE",
            "code_challenge_method": "S256",
        }
    )
    return f"{_url(reverse('oauth2_provider:authorize'))}?{query}"


def code_example(client: ApiClient, secret: str) -> str:
    """A ``curl`` command that trades the code the app got back for an access token."""
    first = client.application.redirect_uris.split()[0]
    return (
        f"curl -X POST {shlex.quote(_url(reverse('oauth2_provider:token')))} \\\n"
        f'  -u "{client.application.client_id}:{secret}" \\\n'
        f"  -d grant_type=authorization_code \\\n"
        f'  -d code="$CODE" \\\n'
        f"  --data-urlencode redirect_uri={shlex.quote(first)} \\\n"
        f'  -d code_verifier="$CODE_VERIFIER"'
    )


def _no_store(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)  # the answer to a create holds a secret
    return response


# --- An institution's API clients (owners) -------------------------------------------------


def _clients_page(
    request: HttpRequest,
    institution: Institution,
    *,
    form: ClientForm,
    new_client: ApiClient | None = None,
    new_secret: str = "",
    status: int = 200,
) -> HttpResponse:
    examples: dict[str, str] = {}
    if new_client is not None and new_secret:
        if new_client.application.authorization_grant_type == PEOPLE:
            examples = {
                "authorize": authorize_example(new_client),
                "token": code_example(new_client, new_secret),
            }
        else:
            examples = {"token": token_example(new_client, new_secret)}
        examples["call"] = call_example()
    context = console_context(
        request,
        institution,
        clients=selectors.clients_of(institution),
        form=form,
        new_client=new_client,
        new_secret=new_secret,
        examples=examples,
        token_url=_url(reverse("oauth2_provider:token")),
        token_minutes=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS // 60,
    )
    return _no_store(render(request, "integrations/clients.html", context, status=status))


@console(Role.OWNER)
def api_clients(request: HttpRequest, institution: Institution) -> HttpResponse:
    """The institution's OAuth clients, and a form to register one. Owners."""
    issuers = issuer_selectors.issuers_of(institution).order_by("slug")
    if request.method != "POST":
        return _clients_page(request, institution, form=ClientForm(issuers=issuers))
    form = ClientForm(request.POST, issuers=issuers)
    if not form.is_valid():
        return _clients_page(request, institution, form=form, status=400)
    data = form.cleaned_data
    try:
        client, secret = services.register_client(
            actor=request_user(request),
            institution=institution,
            name=data["name"],
            grant_type=data["grant_type"],
            scopes=data["scopes"],
            issuers=list(data["issuers"]),
            redirect_uris=data["redirect_uris"],
        )
    except ValidationError as error:
        apply_errors(form, error)
        return _clients_page(request, institution, form=form, status=400)
    return _clients_page(
        request,
        institution,
        form=ClientForm(issuers=issuers),
        new_client=client,
        new_secret=secret,
    )


@console(Role.OWNER)
def api_client_revoke(request: HttpRequest, institution: Institution, client: str) -> HttpResponse:
    """Revoke a client, after a confirmation page (GET). Owners."""
    found = selectors.client_for(request_user(request), institution, client)
    if request.method == "POST":
        try:
            services.revoke_client(actor=request_user(request), client=found)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Client “%(name)s” is revoked: its tokens stopped working.")
                % {"name": found.application.name},
            )
        return redirect("manage:api_clients", institution=institution.slug)
    row = selectors.described_scopes(found.scope_set)
    context = console_context(request, institution, client=found, scopes=row)
    return render(request, "integrations/client_revoke.html", context)


# --- A person's own API access -------------------------------------------------------------


def _account_page(
    request: HttpRequest,
    *,
    form: StaffTokenForm,
    new_token: StaffToken | None = None,
    new_key: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request_user(request)
    context = {
        "tokens": selectors.staff_tokens_of(user),
        "apps": selectors.approved_apps(user),
        "is_staff": issuer_selectors.institutions_for(user).exists(),
        "form": form,
        "new_token": new_token,
        "new_key": new_key,
        "example": (
            f"curl {shlex.quote(_url(EXAMPLE_API_PATH))} \\\n"
            f'  -H "Authorization: Token {new_key or "$INSIGNIA_TOKEN"}"'
        ),
    }
    return _no_store(render(request, "integrations/account_tokens.html", context, status=status))


@personal
def account_tokens(request: HttpRequest) -> HttpResponse:
    """The signed-in person's staff tokens and approved apps; staff create tokens here."""
    user = request_user(request)
    if request.method != "POST":
        return _account_page(request, form=StaffTokenForm())
    if not issuer_selectors.institutions_for(user).exists():
        raise PermissionDenied  # a learner's account: nothing a staff token could reach
    form = StaffTokenForm(request.POST)
    if not form.is_valid():
        return _account_page(request, form=form, status=400)
    try:
        token, key = services.create_staff_token(user=user, name=form.cleaned_data["name"])
    except ValidationError as error:
        apply_errors(form, error)
        return _account_page(request, form=form, status=400)
    return _account_page(request, form=StaffTokenForm(), new_token=token, new_key=key)


@personal
def account_token_revoke(request: HttpRequest, token: uuid.UUID) -> HttpResponse:
    """Revoke one of your own tokens, after a confirmation page (GET)."""
    user = request_user(request)
    found = selectors.staff_token_for(user, token)
    if request.method == "POST":
        try:
            services.revoke_staff_token(user=user, token=found)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Token “%(name)s” is revoked: requests made with it are refused from now on.")
                % {"name": found.name},
            )
        return redirect("manage:account_tokens")
    return render(request, "integrations/account_token_revoke.html", {"token": found})


@personal
def account_app_disconnect(request: HttpRequest, client: str) -> HttpResponse:
    """Withdraw your approval of an app, after a confirmation page (GET)."""
    user = request_user(request)
    found = selectors.approved_app_for(user, client)
    if request.method == "POST":
        services.revoke_consent(user=user, client=found)
        messages.success(
            request,
            _("“%(name)s” is disconnected: it can no longer act for you.")
            % {"name": found.application.name},
        )
        return redirect("manage:account_tokens")
    context = {"client": found, "scopes": selectors.described_scopes(found.scope_set)}
    return render(request, "integrations/account_app_disconnect.html", context)


# --- The consent page of an app acting for a staff member ----------------------------------


class StaffAuthorizationView(AuthorizationView):
    """DOT's authorisation endpoint with Insignia's consent page and one more rule: only a
    member of the client's institution may approve it (403 for anyone else), so an app of
    one institution never gets a token for a person of another. Wallets have their own
    endpoint and are refused here."""

    template_name = "integrations/authorize.html"
    client: ApiClient | None = None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refusal = self._refusal(request, request.GET.get("client_id", ""))
        if refusal is not None:
            return refusal
        return super().get(request, *args, **kwargs)  # type: ignore[no-any-return]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refusal = self._refusal(request, request.POST.get("client_id", ""))
        if refusal is None and self.client is None:
            # DOT's ``form_valid`` would look the unknown client up and fail with a 500.
            refusal = self._refused(request, None, "unknown", 400)
        if refusal is not None:
            return refusal
        return super().post(request, *args, **kwargs)  # type: ignore[no-any-return]

    def _refusal(self, request: HttpRequest, client_id: str) -> HttpResponse | None:
        """A refusal page, or None to let DOT go on (on a GET it answers an unknown client)."""
        found = selectors.client_by_id(client_id) if client_id else None
        if found is None:
            return None
        self.client = found
        user = request_user(request)
        reason = ""
        status = 403
        if found.kind == ApiClient.Kind.WALLET or found.institution is None:
            reason, status = "wallet", 400
        elif found.revoked_at is not None:
            reason, status = "revoked", 400
        elif not is_member(user, found.institution):
            reason = "outsider"
        if not reason:
            assert found.institution is not None  # noqa: S101 - a wallet was refused above
            step = two_step_page(request, found.institution)
            if step is not None:  # the two-step code (or its set-up) before any approval
                return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
            return None
        return self._refused(request, found, reason, status)

    def _refused(
        self, request: HttpRequest, client: ApiClient | None, reason: str, status: int
    ) -> HttpResponse:
        context = {
            "client": client,
            "institution": client.institution if client else None,
            "reason": reason,
        }
        return render(request, "integrations/authorize_refused.html", context, status=status)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        found = self.client
        if found is None or found.institution is None:
            return context
        requested = frozenset(context.get("scopes") or ())
        context.update(
            client=found,
            institution=found.institution,
            requested=selectors.described_scopes(scope_names.actions(requested)),
            limited_to=selectors.issuers_limited_to(found, scope_names.issuer_slugs(requested)),
            my_role=role_in(request_user(self.request), found.institution),
        )
        return context


def _requesting_client_id(request: HttpRequest) -> str:
    """The client id a token-endpoint-style request authenticated with (HTTP Basic, or the
    ``client_id`` form field); DOT has already checked its secret."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.split(":", 1)[0])
    return str(request.POST.get("client_id", ""))


class OwnTokensIntrospectView(IntrospectTokenView):
    """RFC 7662 introspection, for a client's own tokens only: any other token, even a live
    one of another client, is ``{"active": false}``, so a client learns nothing of another
    institution's tokens."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = request.POST.get("token")
        if token:
            checksum = hashlib.sha256(token.encode()).hexdigest()
            found = (
                AccessToken.objects.select_related("application")
                .filter(token_checksum=checksum)
                .first()
            )
            if found is not None and (
                found.application is None
                or found.application.client_id != _requesting_client_id(request)
            ):
                return JsonResponse({"active": False})
        return super().post(request, *args, **kwargs)  # type: ignore[no-any-return]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return JsonResponse(
            {"error": "invalid_request", "error_description": "Use POST (RFC 7662)."}, status=405
        )
