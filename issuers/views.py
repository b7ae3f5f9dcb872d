"""The staff console: institution settings, issuers and members (``/manage/<institution>/``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from issuers import keys, selectors, services
from issuers.forms import InstitutionSettingsForm, InviteForm, IssuerForm, NewIssuerForm, RoleForm
from issuers.models import Institution, Role
from issuers.permissions import has_role, require_role, role_in

P = ParamSpec("P")
ConsoleView = Callable[Concatenate[HttpRequest, Institution, P], HttpResponse]


def console(
    minimum: Role | None = None,
) -> Callable[[ConsoleView[P]], Callable[Concatenate[HttpRequest, str, P], HttpResponse]]:
    """Resolve ``<institution>`` for a signed-in member (404 for anyone else) and require
    ``minimum`` role in it (403), then call the view with the institution."""

    def decorator(
        view: ConsoleView[P],
    ) -> Callable[Concatenate[HttpRequest, str, P], HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(
            request: HttpRequest, institution: str, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponse:
            user = request_user(request)
            found = selectors.institution_for(user, institution)
            if minimum is not None:
                require_role(user, found, minimum)
            return view(request, found, *args, **kwargs)

        return wrapper  # type: ignore[return-value]  # login_required erases the signature

    return decorator


def request_user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # login_required runs first; this narrows the type
        raise PermissionDenied
    return request.user


def _upload(request: HttpRequest, name: str) -> bytes | None:
    upload = request.FILES.get(name)
    if not isinstance(upload, UploadedFile):
        return None
    return bytes(upload.read())


def apply_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def console_context(request: HttpRequest, institution: Institution, **extra: Any) -> dict[str, Any]:
    user = request_user(request)
    return {
        "institution": institution,
        "my_role": role_in(user, institution),
        "is_owner": has_role(user, institution, Role.OWNER),
        **extra,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    institutions = list(selectors.institutions_for(request_user(request)))
    if len(institutions) == 1:
        return redirect("manage:dashboard", institution=institutions[0].slug)
    return render(request, "manage/home.html", {"institutions": institutions})


@console()
def dashboard(request: HttpRequest, institution: Institution) -> HttpResponse:
    # Imported here: the console shows learners' counts, the learner app knows issuers.
    from badges.models import Award
    from earners.selectors import issuer_totals

    issuers = selectors.issuers_of(institution)
    awards = Award.objects.filter(issuer__institution=institution)
    # Issuers see totals over all their badges only, never who looked (issue 9).
    reach = {"awards": awards.count(), **issuer_totals(awards)}
    return render(
        request,
        "manage/dashboard.html",
        console_context(request, institution, issuers=issuers, reach=reach),
    )


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
                    logo=_upload(request, "logo"),
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
    ]
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
                    image=_upload(request, "image"),
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
    found = selectors.issuer_of(institution, issuer)
    require_role(request_user(request), institution, Role.EDITOR, found)
    if request.method == "POST":
        form = IssuerForm(request.POST, request.FILES)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "image"}
            try:
                services.update_issuer(
                    actor=request_user(request),
                    issuer=found,
                    image=_upload(request, "image"),
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
    events = institution.audit_events.select_related("actor")[:200]
    return render(
        request, "manage/audit.html", console_context(request, institution, events=events)
    )


@console()
def issuer_keys(request: HttpRequest, institution: Institution, issuer: str) -> HttpResponse:
    """An issuer's signing keys and its did:web. Owners only."""
    found = selectors.issuer_of(institution, issuer)
    require_role(request_user(request), institution, Role.OWNER, found)
    signing_keys = found.signing_keys.order_by("-created_at", "-pk")
    context = console_context(
        request, institution, issuer=found, signing_keys=signing_keys, did=keys.issuer_did(found)
    )
    return render(request, "issuers/keys.html", context)


@require_POST
@console()
def issuer_key_rotate(request: HttpRequest, institution: Institution, issuer: str) -> HttpResponse:
    found = selectors.issuer_of(institution, issuer)
    require_role(request_user(request), institution, Role.OWNER, found)
    try:
        key = keys.rotate_issuer_key(actor=request_user(request), issuer=found)
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
    found = selectors.issuer_of(institution, issuer)
    require_role(request_user(request), institution, Role.OWNER, found)
    key = found.signing_keys.filter(key_id=key_id).first()
    if key is None:
        raise Http404
    try:
        keys.withdraw_signing_key(actor=request_user(request), key=key)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Key %(key)s withdrawn: credentials it signed no longer verify.")
            % {"key": key.key_id},
        )
    return redirect("manage:issuer_keys", institution=institution.slug, issuer=found.slug)
