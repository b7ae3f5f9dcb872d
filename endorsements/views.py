"""Console pages of endorsements (owners of the institution only): what its issuers endorse
and what others endorse of it, requests received and sent, giving and withdrawing an
endorsement, asking for one and answering; and each endorsement credential's public URL.
Actions that change something are POSTs."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from badges import selectors as badge_selectors
from badges.models import Achievement
from common.http import json_response, json_type
from endorsements import external, selectors, services
from endorsements.forms import AcceptForm, EndorseForm, RequestForm
from endorsements.models import RequestStatus
from issuers import selectors as issuer_selectors
from issuers.console import apply_errors, console, console_context, request_user
from issuers.keys import SigningUnavailable
from issuers.models import Institution, Issuer, Role


def _to_list(institution: Institution) -> HttpResponse:
    return redirect("manage:endorsements", institution=institution.slug)


def _language() -> str:
    return translation.get_language() or "en"


@console(Role.OWNER)
def endorsements(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Given, received, requests received and sent."""
    context = console_context(
        request,
        institution,
        given=list(selectors.given_by(institution)[:100]),
        received=list(selectors.received_by(institution)[:100]),
        incoming=list(selectors.requests_received(institution)[:100]),
        outgoing=list(selectors.requests_sent(institution)[:100]),
        pending=RequestStatus.PENDING,
    )
    return render(request, "endorsements/list.html", context)


def _subject_of(target: str) -> services.Subject:
    """``issuer:<slug>`` or ``achievement:<uuid>`` → what it names on this platform."""
    kind, _sep, key = target.partition(":")
    if kind == "issuer":
        issuer = Issuer.objects.select_related("institution").filter(slug=key).first()
        if issuer is not None:
            return services.Subject(issuer=issuer)
    elif kind == "achievement":
        try:
            achievement_id = uuid.UUID(key)
        except ValueError:
            achievement_id = None
        found = (
            Achievement.objects.select_related("issuer__institution")
            .filter(pk=achievement_id)
            .first()
            if achievement_id
            else None
        )
        if found is not None:
            return services.Subject(achievement=found)
    raise ValidationError({"target": _("Choose an issuer or micro-credential from the search.")})


def _options(institution: Institution, query: str) -> list[dict[str, str]]:
    """The search's answers as the form's choices (``target`` values)."""
    options = [
        {
            "value": f"issuer:{issuer.slug}",
            "label": _("Issuer: %(name)s") % {"name": issuer.name},
            "owner": issuer.institution.name,
        }
        for issuer in selectors.endorsable_issuers(institution, query)
    ]
    options += [
        {
            "value": f"achievement:{version.achievement_id}",
            "label": _("Micro-credential: %(name)s") % {"name": version.name},
            "owner": version.achievement.issuer.name,
        }
        for version in selectors.endorsable_achievements(institution, query)
    ]
    return options


@console(Role.OWNER)
def endorsement_new(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Search this platform's issuers and micro-credentials (``?q=``), or give an address,
    and endorse it with a comment."""
    query = request.GET.get("q", "").strip()[:100]
    form = EndorseForm(
        request.POST or None,
        institution=institution,
        initial={"target": request.GET.get("target", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["url"]:
                subject = services.Subject(external=external.fetch_subject(data["url"]))
            else:
                subject = _subject_of(data["target"])
            endorsement = services.endorse(
                actor=request_user(request),
                endorser=data["endorser"],
                subject=subject,
                comment=data["comment"],
                language=_language(),
            )
        except ValidationError as error:
            apply_errors(form, error)
        except SigningUnavailable as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Endorsed %(name)s.") % {"name": endorsement.subject_name})
            return _to_list(institution)
    context = console_context(
        request,
        institution,
        form=form,
        query=query,
        chosen=form["target"].value() or "",
        options=_options(institution, query),
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "endorsements/new.html", context, status=status)


@require_POST
@console(Role.OWNER)
def endorsement_withdraw(
    request: HttpRequest, institution: Institution, endorsement: uuid.UUID
) -> HttpResponse:
    """Withdraw an endorsement for good (its status bit is set)."""
    user = request_user(request)
    found = selectors.endorsement_for(user, institution, endorsement)
    services.withdraw_endorsement(actor=user, endorsement=found)
    messages.success(request, _("Endorsement withdrawn."))
    return _to_list(institution)


def _own_targets(institution: Institution) -> list[tuple[str, str]]:
    targets = [
        (f"issuer:{issuer.slug}", _("Issuer: %(name)s") % {"name": issuer.name})
        for issuer in issuer_selectors.issuers_of(institution)
    ]
    targets += [
        (
            f"achievement:{version.achievement_id}",
            _("Micro-credential: %(name)s") % {"name": version.name},
        )
        for version in badge_selectors.published_achievements(institution=institution)
    ]
    return targets


@console(Role.OWNER)
def endorsement_request_new(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Ask another institution to endorse one of this institution's issuers or
    micro-credentials."""
    form = RequestForm(
        request.POST or None, institution=institution, targets=_own_targets(institution)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.request_endorsement(
                actor=request_user(request),
                requester=institution,
                recipient=data["recipient"],
                subject=_subject_of(data["target"]),
                message=data["message"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Request sent."))
            return _to_list(institution)
    status = 400 if request.method == "POST" else 200
    context = console_context(request, institution, form=form)
    return render(request, "endorsements/request_new.html", context, status=status)


@console(Role.OWNER)
def endorsement_request(
    request: HttpRequest, institution: Institution, request_id: uuid.UUID
) -> HttpResponse:
    """A request this institution received: accept it (sign the endorsement, the comment
    editable) or decline it."""
    user = request_user(request)
    found = selectors.request_for(user, institution, request_id, incoming=True)
    form = AcceptForm(
        request.POST or None, institution=institution, initial={"comment": found.message}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_request(
                actor=user,
                request=found,
                endorser=form.cleaned_data["endorser"],
                comment=form.cleaned_data["comment"],
                language=_language(),
            )
        except ValidationError as error:
            apply_errors(form, error)
        except SigningUnavailable as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Endorsement signed."))
            return _to_list(institution)
    status = 400 if request.method == "POST" else 200
    context = console_context(
        request, institution, form=form, found=found, pending=RequestStatus.PENDING
    )
    return render(request, "endorsements/request.html", context, status=status)


@require_POST
@console(Role.OWNER)
def endorsement_request_decline(
    request: HttpRequest, institution: Institution, request_id: uuid.UUID
) -> HttpResponse:
    user = request_user(request)
    found = selectors.request_for(user, institution, request_id, incoming=True)
    try:
        services.decline_request(actor=user, request=found)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Request declined."))
    return _to_list(institution)


@require_safe
def endorsement_credential(request: HttpRequest, endorsement_id: uuid.UUID) -> HttpResponse:
    """``/endorsements/<id>``: the signed ``EndorsementCredential``, exactly as stored
    (withdrawn ones too: their status list says so)."""
    found = selectors.public_credential(endorsement_id)
    media = json_type(request, ("application/ld+json", "application/json")) or "application/json"
    return json_response(found.credential_json, media)
