"""Public sign-on pages: find your institution, then go to its identity provider.

Both sign-in pages (staff and learners) link here; a learner who is already signed in comes
here from their addresses page to link their institution to their account.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from issuers.models import Institution
from signon import selectors
from signon.models import IdentityProvider, Protocol
from signon.services import LINK_PARAMETER, safe_next


def _carried(request: HttpRequest) -> dict[str, str]:
    """What the chooser carries to the identity provider: where to go afterwards, and
    whether the signed-in person asked to link the institution to their account."""
    carried = {}
    next_url = safe_next(request, request.GET.get("next"))
    if next_url:
        carried["next"] = next_url
    if request.GET.get(LINK_PARAMETER) == "1" and request.user.is_authenticated:
        carried[LINK_PARAMETER] = "1"
    return carried


def _login_url(provider: IdentityProvider, carried: dict[str, str]) -> str:
    name = "signon:saml_login" if provider.protocol == Protocol.SAML else "signon:oidc_login"
    url = reverse(name, args=[provider.institution.slug])
    return f"{url}?{urlencode(carried)}" if carried else url


@require_safe
def choose(request: HttpRequest) -> HttpResponse:
    """Find your institution (by name or short name)."""
    query = request.GET.get("q", "")[:100]
    carried = _carried(request)
    institutions = list(selectors.institutions_with_signon(query)[:50])
    context = {
        "institutions": institutions,
        "q": query,
        "carried": carried,
        "query_string": urlencode(carried),
        "linking": LINK_PARAMETER in carried,
    }
    return render(request, "signon/choose.html", context)


@require_safe
def start(request: HttpRequest, institution: str) -> HttpResponse:
    """Go straight to the institution's identity provider, or choose when it has two."""
    found = get_object_or_404(Institution, slug=institution)
    carried = _carried(request)
    providers = selectors.enabled_providers(found)
    if not providers:
        return render(
            request, "signon/start.html", {"institution": found, "options": []}, status=404
        )
    if len(providers) == 1:
        return HttpResponseRedirect(_login_url(providers[0], carried))
    options = [(provider, _login_url(provider, carried)) for provider in providers]
    return render(request, "signon/start.html", {"institution": found, "options": options})
