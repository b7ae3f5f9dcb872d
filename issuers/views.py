"""The staff console's institution pages (settings, issuers, members, invitations, keys,
activity), accepting an invitation, and the public did:web document of an issuer."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.models import User
from common.http import fingerprint, json_response, json_type, not_modified
from issuers import keys, registry, selectors, services
from issuers.console import (
    apply_errors,
    console,
    console_context,
    personal,
    request_user,
    uploaded,
)
from issuers.forms import (
    AcceptInvitationForm,
    InstitutionSettingsForm,
    InviteForm,
    IssuerForm,
    NewIssuerForm,
    RoleForm,
)
from issuers.models import Institution, Issuer, Role
from issuers.permissions import has_role


@personal
def home(request: HttpRequest) -> HttpResponse:
    institutions = list(selectors.institutions_for(request_user(request)))
    if len(institutions) == 1:
        return redirect("manage:dashboard", institution=institutions[0].slug)
    return render(request, "manage/home.html", {"institutions": institutions})


@console(Role.OWNER)
def institution_settings(request: HttpRequest, institution: Institution) -> HttpResponse:
    if request.method == "POST":
        form = InstitutionSettingsForm(request.POST, request.FILES)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "logo"}
            try:
                services.update_institution(
                    actor=request_user(request),
                    institution=institution,
                    logo=uploaded(request, "logo"),
                    **data,
                )
            except ValidationError as error:
                institution.refresh_from_db()
                apply_errors(form, error)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("manage:settings", institution=institution.slug)
    else:
        form = InstitutionSettingsForm.for_institution(institution)
    return render(request, "manage/settings.html", console_context(request, institution, form=form))


@console()
def issuer_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    user = request_user(request)
    issuers = [
        (issuer, has_role(user, institution, Role.EDITOR, issuer))
        for issuer in selectors.issuers_of(institution)
    ]  # one membership query for all rows: roles are read once per request
    return render(
        request, "manage/issuers.html", console_context(request, institution, issuers=issuers)
    )


@console(Role.OWNER)
def issuer_create(request: HttpRequest, institution: Institution) -> HttpResponse:
    if request.method == "POST":
        form = NewIssuerForm(request.POST, request.FILES)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "image"}
            try:
                issuer = services.create_issuer(
                    actor=request_user(request),
                    institution=institution,
                    image=uploaded(request, "image"),
                    **data,
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Issuer “%(name)s” created.") % {"name": issuer.name})
                return redirect("manage:issuers", institution=institution.slug)
    else:
        form = NewIssuerForm()
    return render(
        request,
        "manage/issuer_form.html",
        console_context(request, institution, form=form, issuer=None),
    )


@console()
def issuer_edit(request: HttpRequest, institution: Institution, issuer: str) -> HttpResponse:
    found = selectors.issuer_for(request_user(request), institution, issuer, Role.EDITOR)
    if request.method == "POST":
        form = IssuerForm(request.POST, request.FILES)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "image"}
            try:
                services.update_issuer(
                    actor=request_user(request),
                    issuer=found,
                    image=uploaded(request, "image"),
                    **data,
                )
            except ValidationError as error:
                found.refresh_from_db()
                apply_errors(form, error)
            else:
                messages.success(request, _("Issuer saved."))
                return redirect("manage:issuers", institution=institution.slug)
    else:
        form = IssuerForm.for_issuer(found)
    return render(
        request,
        "manage/issuer_form.html",
        console_context(request, institution, form=form, issuer=found),
    )


def _members_page(
    request: HttpRequest, institution: Institution, invite_form: InviteForm, status: int = 200
) -> HttpResponse:
    context = console_context(
        request,
        institution,
        members=selectors.members_of(institution),
        invitations=selectors.pending_invitations_of(institution),
        invite_form=invite_form,
        roles=Role.choices,
    )
    return render(request, "manage/members.html", context, status=status)


@console(Role.OWNER)
def members(request: HttpRequest, institution: Institution) -> HttpResponse:
    form = InviteForm(issuers=list(selectors.issuers_of(institution)))
    return _members_page(request, institution, form)


@require_POST
@console(Role.OWNER)
def member_invite(request: HttpRequest, institution: Institution) -> HttpResponse:
    form = InviteForm(request.POST, issuers=list(selectors.issuers_of(institution)))
    if form.is_valid():
        try:
            invitation = services.invite_member(
                actor=request_user(request),
                institution=institution,
                email=form.cleaned_data["email"],
                role=Role(form.cleaned_data["role"]),
                issuer=form.chosen_issuer(),
                language=translation.get_language() or "en",
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
            )
            return redirect("manage:members", institution=institution.slug)
    return _members_page(request, institution, form, status=400)


@require_POST
@console(Role.OWNER)
def member_role(request: HttpRequest, institution: Institution, membership: int) -> HttpResponse:
    found = selectors.membership_of(institution, membership)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.change_member_role(
                actor=request_user(request), membership=found, role=Role(form.cleaned_data["role"])
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(email)s is now %(role)s.")
                % {"email": found.user.email, "role": Role(found.role).label},
            )
    return redirect("manage:members", institution=institution.slug)


@require_POST
@console(Role.OWNER)
def member_remove(request: HttpRequest, institution: Institution, membership: int) -> HttpResponse:
    found = selectors.membership_of(institution, membership)
    try:
        services.remove_member(actor=request_user(request), membership=found)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(email)s was removed.") % {"email": found.user.email})
    return redirect("manage:members", institution=institution.slug)


@require_POST
@console(Role.OWNER)
def invitation_cancel(
    request: HttpRequest, institution: Institution, invitation: str
) -> HttpResponse:
    found = selectors.invitation_of(institution, invitation)
    services.cancel_invitation(actor=request_user(request), invitation=found)
    messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": found.email})
    return redirect("manage:members", institution=institution.slug)


@console(Role.OWNER)
def audit_log(request: HttpRequest, institution: Institution) -> HttpResponse:
    events = selectors.audit_events_of(institution)
    return render(
        request, "manage/audit.html", console_context(request, institution, events=events)
    )


@console()
def issuer_keys(request: HttpRequest, institution: Institution, issuer: str) -> HttpResponse:
    """An issuer's signing keys and its did:web. Owners only."""
    found = selectors.issuer_for(request_user(request), institution, issuer, Role.OWNER)
    signing_keys = selectors.keys_of(found)
    context = console_context(
        request, institution, issuer=found, signing_keys=signing_keys, did=keys.issuer_did(found)
    )
    return render(request, "issuers/keys.html", context)


@require_POST
@console()
def issuer_key_rotate(request: HttpRequest, institution: Institution, issuer: str) -> HttpResponse:
    found = selectors.issuer_for(request_user(request), institution, issuer, Role.OWNER)
    try:
        key = services.rotate_issuer_key(actor=request_user(request), issuer=found)
    except keys.SigningUnavailable as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("New key %(key)s is active; earlier keys still verify what they signed.")
            % {"key": key.key_id},
        )
    return redirect("manage:issuer_keys", institution=institution.slug, issuer=found.slug)


@require_POST
@console()
def issuer_key_withdraw(
    request: HttpRequest, institution: Institution, issuer: str, key_id: str
) -> HttpResponse:
    found = selectors.issuer_for(request_user(request), institution, issuer, Role.OWNER)
    key = selectors.key_of(found, key_id)
    try:
        services.withdraw_signing_key(actor=request_user(request), key=key)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Key %(key)s withdrawn: credentials it signed no longer verify.")
            % {"key": key.key_id},
        )
    return redirect("manage:issuer_keys", institution=institution.slug, issuer=found.slug)


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation; accept it as the signed-in invitee, or create the invitee's account."""
    invitation = services.find_invitation(token)
    if invitation is None:
        return render(request, "manage/invitation_invalid.html", status=404)
    existing = User.objects.filter(email=invitation.email).first()
    user = request.user if isinstance(request.user, User) else None
    form = AcceptInvitationForm(request.POST or None)
    error = ""
    if request.method == "POST":
        try:
            if user is not None:
                services.accept_invitation(token=token, user=user)
            elif existing is None and form.is_valid():
                new_user = services.join_with_new_account(
                    token=token,
                    name=form.cleaned_data["name"],
                    password=form.cleaned_data["password"],
                )
                login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                return render(
                    request,
                    "manage/invitation.html",
                    {"invitation": invitation, "existing": existing, "form": form},
                    status=400,
                )
        except ValidationError as failure:
            if existing is None and user is None:
                apply_errors(form, failure)
            else:
                error = " ".join(failure.messages)
        except PermissionDenied as failure:
            error = str(failure) or _("This invitation was sent to another e-mail address.")
        else:
            messages.success(
                request,
                _("Welcome to %(institution)s.") % {"institution": invitation.institution.name},
            )
            return redirect("manage:dashboard", institution=invitation.institution.slug)
    login_url = f"{reverse('manage:login')}?next={request.path}"
    return render(
        request,
        "manage/invitation.html",
        {
            "invitation": invitation,
            "existing": existing,
            "form": form,
            "error": error,
            "login_url": login_url,
        },
        status=400 if error or form.errors else 200,
    )


@require_safe
def did_document(request: HttpRequest, slug: str) -> HttpResponse:
    """``/issuers/<slug>/did.json``: the issuer's did:web document, with its active and
    retired keys, never withdrawn ones (DESIGN.md §5)."""
    issuer = get_object_or_404(Issuer.objects.select_related("institution"), slug=slug)
    media = json_type(request, ("application/did+json", "application/json")) or "application/json"
    response = json_response(json.dumps(keys.did_document(issuer), indent=2), media)
    # A withdrawn key must stop verifying soon: keep caches short.
    response["Cache-Control"] = "public, max-age=300"
    return response


#: Verifiers and wallets may keep our registry for five minutes: a withdrawn key's issuer
#: leaves it about as soon as its DID document drops the key.
REGISTRY_CACHE_CONTROL = "public, max-age=300"


def _cacheable_json(request: HttpRequest, document: object) -> HttpResponse:
    body = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    etag = f'"{fingerprint(body)}"'
    unchanged = not_modified(request, etag, REGISTRY_CACHE_CONTROL)
    if unchanged is not None:
        unchanged["Access-Control-Allow-Origin"] = "*"
        return unchanged
    response = json_response(body, "application/json")
    response["ETag"] = etag
    response["Cache-Control"] = REGISTRY_CACHE_CONTROL
    return response


@require_safe
def issuer_registry(request: HttpRequest) -> HttpResponse:
    """``/registry/issuers.json``: every issuer of this platform in DCC's known-issuer
    registry format (``issuers.registry``), with an ETag and a short ``max-age``."""
    return _cacheable_json(request, registry.published())


@require_safe
def known_registries(request: HttpRequest) -> HttpResponse:
    """``/registry/known-registries.json``: our registry as the one entry of a known
    registries list, which a wallet or verifier operator adds to theirs."""
    return _cacheable_json(request, [registry.known_registry_entry()])
