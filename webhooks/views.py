"""Console pages of an institution's webhooks: the endpoints, one endpoint with its recent
deliveries, and its actions (edit, send a test event, rotate the secret, enable or disable,
delete, send a delivery again). Owners of the institution only.

A secret is rendered in the answer to the POST that created it (a new endpoint, a rotation)
and nowhere else: not in the session or a message (both are stored), and the answer is not
cached. Actions that change something are POSTs; a GET of their URL leads back to the
endpoint's page.
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from issuers.console import apply_errors, console, console_context, request_user
from issuers.models import Institution, Role
from webhooks import selectors, services
from webhooks.delivery import signing_secrets
from webhooks.forms import EndpointForm
from webhooks.models import Endpoint


def _secret_page(
    request: HttpRequest, institution: Institution, endpoint: Endpoint, *, created: bool
) -> HttpResponse:
    context = console_context(request, institution, endpoint=endpoint, created=created)
    response = render(request, "webhooks/secret.html", context)
    add_never_cache_headers(response)  # the answer holds the secret
    return response


def _to_endpoint(institution: Institution, endpoint: Endpoint) -> HttpResponse:
    return redirect("manage:webhook_detail", institution=institution.slug, endpoint=endpoint.pk)


@console(Role.OWNER)
def webhooks(request: HttpRequest, institution: Institution) -> HttpResponse:
    """The institution's webhook endpoints."""
    endpoints = list(selectors.endpoints_of(institution))
    context = console_context(request, institution, endpoints=endpoints)
    return render(request, "webhooks/endpoints.html", context)


@console(Role.OWNER)
def webhook_create(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Add an endpoint; the answer shows its secret, once."""
    form = EndpointForm(request.POST or None, institution=institution)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.create_endpoint(
                actor=request_user(request),
                institution=institution,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                event_types=form.cleaned_data["event_types"],
                issuers=list(form.cleaned_data["issuers"]),
                language=translation.get_language() or "en",
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            return _secret_page(request, institution, endpoint, created=True)
    status = 400 if request.method == "POST" else 200
    context = console_context(request, institution, form=form, endpoint=None)
    return render(request, "webhooks/endpoint_form.html", context, status=status)


@console(Role.OWNER)
def webhook_detail(
    request: HttpRequest, institution: Institution, endpoint: uuid.UUID
) -> HttpResponse:
    """One endpoint: its settings, its recent deliveries and its actions."""
    found = selectors.endpoint_for(request_user(request), institution, endpoint)
    context = console_context(
        request,
        institution,
        endpoint=found,
        deliveries=[
            (row, json.dumps(row.event.data, indent=2, ensure_ascii=False))
            for row in selectors.deliveries_of(found)
        ],
        rotating=len(signing_secrets(found, timezone.now())) > 1,
    )
    return render(request, "webhooks/endpoint_detail.html", context)


@console(Role.OWNER)
def webhook_edit(
    request: HttpRequest, institution: Institution, endpoint: uuid.UUID
) -> HttpResponse:
    """Change an endpoint's URL, description, events and issuers."""
    found = selectors.endpoint_for(request_user(request), institution, endpoint)
    initial = {
        "url": found.url,
        "description": found.description,
        "event_types": found.event_types,
        "issuers": list(found.issuers.all()),
    }
    form = EndpointForm(request.POST or None, initial=initial, institution=institution)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_endpoint(
                actor=request_user(request),
                endpoint=found,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                event_types=form.cleaned_data["event_types"],
                issuers=list(form.cleaned_data["issuers"]),
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The endpoint is saved."))
            return _to_endpoint(institution, found)
    status = 400 if request.method == "POST" else 200
    context = console_context(request, institution, form=form, endpoint=found)
    return render(request, "webhooks/endpoint_form.html", context, status=status)


@console(Role.OWNER)
def webhook_delete(
    request: HttpRequest, institution: Institution, endpoint: uuid.UUID
) -> HttpResponse:
    """Delete an endpoint, after a confirmation page (GET)."""
    found = selectors.endpoint_for(request_user(request), institution, endpoint)
    if request.method == "POST":
        services.delete_endpoint(actor=request_user(request), endpoint=found)
        messages.success(request, _("The endpoint is deleted: nothing more is sent to it."))
        return redirect("manage:webhooks", institution=institution.slug)
    context = console_context(request, institution, endpoint=found, action="delete")
    return render(request, "webhooks/confirm.html", context)


@console(Role.OWNER)
def webhook_rotate(
    request: HttpRequest, institution: Institution, endpoint: uuid.UUID
) -> HttpResponse:
    """Give the endpoint a new secret, after a confirmation page (GET); the answer shows it."""
    found = selectors.endpoint_for(request_user(request), institution, endpoint)
    if request.method == "POST":
        services.rotate_secret(actor=request_user(request), endpoint=found)
        return _secret_page(request, institution, found, created=False)
    context = console_context(
        request,
        institution,
        endpoint=found,
        action="rotate",
        grace_hours=settings.WEBHOOK_SECRET_GRACE_HOURS,
    )
    return render(request, "webhooks/confirm.html", context)


@console(Role.OWNER)
def webhook_enable(
    request: HttpRequest, institution: Institution, endpoint: uuid.UUID
) -> HttpResponse:
    """Switch the endpoint on (POST)."""
    found = selectors.endpoint_for(request_user(request), institution, endpoint)
    if request.method == "POST":
        services.enable_endpoint(actor=request_user(request), endpoint=found)
        messages.success(request, _("The endpoint is enabled: events are sent to it again."))
    return _to_endpoint(institution, found)


@console(Role.OWNER)
def webhook_disable(
    request: HttpRequest, institution: Institution, endpoint: uuid.UUID
) -> HttpResponse:
    """Switch the endpoint off (POST)."""
    found = selectors.endpoint_for(request_user(request), institution, endpoint)
    if request.method == "POST":
        services.disable_endpoint(actor=request_user(request), endpoint=found)
        messages.success(request, _("The endpoint is disabled: nothing is sent to it."))
    return _to_endpoint(institution, found)


@console(Role.OWNER)
def webhook_test(
    request: HttpRequest, institution: Institution, endpoint: uuid.UUID
) -> HttpResponse:
    """Send the endpoint a test event (POST)."""
    found = selectors.endpoint_for(request_user(request), institution, endpoint)
    if request.method == "POST":
        try:
            services.send_test_event(actor=request_user(request), endpoint=found)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("A test event is on its way; its delivery is listed below.")
            )
    return _to_endpoint(institution, found)


@console(Role.OWNER)
def webhook_redeliver(
    request: HttpRequest, institution: Institution, endpoint: uuid.UUID, delivery: uuid.UUID
) -> HttpResponse:
    """Send one delivery again (POST), with the same webhook-id."""
    found = selectors.delivery_for(request_user(request), institution, endpoint, delivery)
    if request.method == "POST":
        try:
            services.redeliver(actor=request_user(request), delivery=found)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The event will be sent again shortly."))
    return _to_endpoint(institution, found.endpoint)
