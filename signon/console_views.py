"""The owner's campus sign-on settings: what to give the identity provider (our SAML
metadata, our OpenID redirect URI), and the institution's SAML and OpenID Connect set-up
with attribute mapping and staff roles. Owners of the institution only."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from issuers.console import apply_errors, console, console_context, request_user
from issuers.models import Institution, Role
from signon import configuration, selectors
from signon.forms import OidcProviderForm, SamlProviderForm
from signon.models import IdentityProvider, Protocol


def _protocol(value: str) -> Protocol:
    if value not in Protocol.values:
        raise Http404
    return Protocol(value)


def _endpoints(request: HttpRequest, institution: Institution) -> dict[str, str]:
    """Our side's URLs, to give the identity provider."""
    slug = institution.slug
    return {
        "saml_metadata": request.build_absolute_uri(reverse("signon:saml_metadata", args=[slug])),
        "saml_acs": request.build_absolute_uri(reverse("signon:saml_acs", args=[slug])),
        "saml_sls": request.build_absolute_uri(reverse("signon:saml_sls", args=[slug])),
        "oidc_redirect": request.build_absolute_uri(reverse("signon:oidc_callback", args=[slug])),
        "start": request.build_absolute_uri(reverse("signon:start", args=[slug])),
    }


@console(Role.OWNER)
def settings_page(request: HttpRequest, institution: Institution) -> HttpResponse:
    providers = selectors.providers_of(institution)
    context = console_context(
        request,
        institution,
        saml=providers.get(Protocol.SAML),
        oidc=providers.get(Protocol.OIDC),
        urls=_endpoints(request, institution),
        keys=selectors.published_keys(institution),
    )
    return render(request, "signon/console.html", context)


@console(Role.OWNER)
def provider_edit(request: HttpRequest, institution: Institution, protocol: str) -> HttpResponse:
    kind = _protocol(protocol)
    provider = IdentityProvider.objects.filter(institution=institution, protocol=kind).first()
    if provider is None:
        provider = IdentityProvider(institution=institution, protocol=kind)
        provider.fill_defaults()  # a new form shows the usual attribute names
    form_class = SamlProviderForm if kind == Protocol.SAML else OidcProviderForm
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    form = form_class(data, files, instance=provider)
    if request.method == "POST" and form.is_valid():
        try:
            configuration.save_provider(
                actor=request_user(request),
                institution=institution,
                provider=form.save(commit=False),
                role_rules=form.cleaned_data["role_rules_text"],
                metadata_upload=form.cleaned_data.get("metadata_file", ""),
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Campus sign-on is saved."))
            return redirect("manage:signon", institution=institution.slug)
    context = console_context(
        request,
        institution,
        form=form,
        protocol=kind,
        provider=None if provider._state.adding else provider,
        urls=_endpoints(request, institution),
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "signon/console_form.html", context, status=status)


@console(Role.OWNER)
def provider_remove(
    request: HttpRequest, institution: Institution, provider: uuid.UUID
) -> HttpResponse:
    found = selectors.provider_for(institution, provider)
    if request.method == "POST":
        configuration.remove_provider(actor=request_user(request), provider=found)
        messages.success(
            request,
            _("Sign-in through %(name)s is removed.") % {"name": found.get_protocol_display()},
        )
        return redirect("manage:signon", institution=institution.slug)
    context = console_context(request, institution, provider=found)
    return render(request, "signon/console_remove.html", context)
