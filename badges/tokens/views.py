"""Console page of an issuer's API tokens: list with their scopes, create with the scopes the
owner ticks (the key is shown once), revoke. Owners of the institution only; every URL is in
the tenant-isolation test.

The new key is rendered in the answer to the POST that created it and nowhere else: it is
not put in the session or a message (both are stored), and the answer is not cached.
"""

from __future__ import annotations

import json
import shlex
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from badges import selectors as badge_selectors
from badges.models import IssuerApiToken
from badges.tokens import selectors, services
from badges.tokens.forms import ApiTokenForm
from badges.tokens.scopes import described
from issuers import selectors as issuer_selectors
from issuers.console import apply_errors, console, console_context, request_user
from issuers.models import Institution, Issuer, Role

KEY_PLACEHOLDER = "$INSIGNIA_TOKEN"


def example_call(achievement_id: str, key: str) -> str:
    """A ``curl`` command that awards the micro-credential with the token, as shown.

    Keys are URL-safe base64 after ``ins_``, so double quotes are enough (and let the
    placeholder be a shell variable)."""
    zero = uuid.UUID(int=0)
    path = reverse("api_award_achievement", args=[zero]).replace(str(zero), achievement_id)
    url = settings.INSIGNIA_BASE_URL + path
    body = json.dumps({"email": "learner@example.com", "name": "Ada Lovelace"})
    return (
        f"curl -X POST {shlex.quote(url)} \\\n"
        f'  -H "Authorization: Bearer {key}" \\\n'
        f'  -H "Idempotency-Key: $(uuidgen)" \\\n'
        f'  -H "Content-Type: application/json" \\\n'
        f"  -d {shlex.quote(body)}"
    )


def _page(
    request: HttpRequest,
    institution: Institution,
    issuer: Issuer,
    *,
    form: ApiTokenForm,
    new_token: IssuerApiToken | None = None,
    new_key: str = "",
    status: int = 200,
) -> HttpResponse:
    achievements = badge_selectors.published_achievements(issuer)
    example_id = str(achievements[0].achievement_id) if achievements else "ACHIEVEMENT_ID"
    context = console_context(
        request,
        institution,
        issuer=issuer,
        tokens=[(token, described(token.scopes)) for token in selectors.tokens_of(issuer)],
        form=form,
        new_token=new_token,
        new_key=new_key,
        achievements=achievements,
        example=example_call(example_id, new_key or KEY_PLACEHOLDER),
    )
    response = render(request, "manage/api_tokens.html", context, status=status)
    add_never_cache_headers(response)  # the answer to a create holds the key
    return response


@console(Role.OWNER)
def api_tokens(request: HttpRequest, institution: Institution, issuer: str) -> HttpResponse:
    """An issuer's API tokens, and a form to create one. Owners of the institution."""
    found = issuer_selectors.issuer_for(request_user(request), institution, issuer, Role.OWNER)
    if request.method != "POST":
        return _page(request, institution, found, form=ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, institution, found, form=form, status=400)
    try:
        token, key = services.create_api_token(
            actor=request_user(request),
            issuer=found,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
        )
    except ValidationError as error:
        apply_errors(form, error)
        return _page(request, institution, found, form=form, status=400)
    return _page(request, institution, found, form=ApiTokenForm(), new_token=token, new_key=key)


@console(Role.OWNER)
def api_token_revoke(
    request: HttpRequest, institution: Institution, issuer: str, token: uuid.UUID
) -> HttpResponse:
    """Revoke a token, after a confirmation page (GET). Owners of the institution."""
    target = selectors.token_for(request_user(request), institution, issuer, token)
    found = target.issuer
    if request.method == "POST":
        try:
            services.revoke_api_token(actor=request_user(request), token=target)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Token “%(name)s” is revoked: requests made with it are refused from now on.")
                % {"name": target.name},
            )
        return redirect("manage:api_tokens", institution=institution.slug, issuer=found.slug)
    context = console_context(request, institution, issuer=found, token=target)
    return render(request, "manage/api_token_revoke.html", context)
