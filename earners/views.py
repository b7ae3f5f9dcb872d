"""The learner's pages: sign-up, backpack, privacy, collections, views, PDF downloads.

Every page under ``/backpack/`` shows only the signed-in learner's own rows (selectors scope
by user; another learner's ids answer 404). ``/shared/<token>`` and ``/learners/<slug>`` are
public and show only what the learner chose to share.

About 600 lines: every page of the learner's own side is here, with the one-step claim
(imports and identity changes have their own subpackages); they share the ``learner``
decorator and the backpack filters.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import throttling
from accounts.models import User
from accounts.views import SignInForm
from badges.credentials import credential_name, credential_url, issuer_name
from badges.models import Award, AwardStatus
from badges.notifications import links
from badges.state import STATE_LABELS, State, award_state
from earners import chart, export, pdf, selectors, services
from earners.forms import (
    AddEmailForm,
    ClaimForm,
    CollectionForm,
    OrganisationForm,
    PreferenceForm,
    ProfileForm,
    SignUpForm,
)
from earners.identity import services as identity_services
from earners.models import (
    AwardPreference,
    Channel,
    IdentityChange,
    ImportedBadge,
    InstitutionalIdentity,
    Kind,
    LearnerEmail,
    LearnerProfile,
)
from openbadges.ob3 import normalize_email
from verification import pipeline

View = Callable[..., HttpResponse]


def learner(view: View) -> View:
    """Signed-in people only; anyone else goes to the learner sign-in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not isinstance(request.user, User) or not request.user.is_authenticated:
            return redirect(f"{reverse('earners:login')}?next={request.path}")
        return view(request, request.user, *args, **kwargs)

    return wrapped


def _claim_url(token: str) -> str:
    """The claim page for ``token`` ("" for one no claim link can hold)."""
    try:
        return reverse("claim", args=[token])
    except NoReverseMatch:
        return ""


def _local_path(request: HttpRequest, target: str) -> str:
    """``target`` if it is a path on this site, else ``""`` (never an open redirect)."""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _claimed_award(token: str) -> Award | None:
    """The award a claim link names, or ``None`` for a forged or unknown one."""
    award_id = links.award_for_token(token) if token else None
    return Award.objects.filter(pk=award_id).first() if award_id else None


def _is_learner_signed_in(request: HttpRequest) -> bool:
    return isinstance(request.user, User) and request.user.is_authenticated


@require_http_methods(["GET", "HEAD", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    """Create a learner account. The page answers the same whether the address has an account
    or not ("check your e-mail"), so it tells nobody who has one; the e-mail says which it
    was. The confirmation link signs the new learner in and continues to ``?claim=<token>``'s
    claim page, or to a local ``?next=``.

    From a claim link (``?claim=<token>``) the form is filled in with the award's name and
    address, and signing up with that very address needs no confirmation e-mail: the link
    went there (``services.sign_up_from_claim``). The learner is signed in at once and the
    badge is in the backpack."""
    claim = request.GET.get("claim", "") or request.POST.get("claim", "")
    target = request.GET.get("next", "") or request.POST.get("next", "")
    claimed = _claimed_award(claim)
    claim = claim if _claim_url(claim) else ""
    next_path = _claim_url(claim) if claim else _local_path(request, target)
    if claimed is not None and _is_learner_signed_in(request):
        return redirect(next_path)
    initial = {"name": claimed.recipient_name, "email": claimed.recipient_email} if claimed else {}
    form = SignUpForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        email = normalize_email(form.cleaned_data["email"])
        retry = throttling.mail_limit(request, scope="signup", email=email)
        if retry is not None:
            return throttling.too_many(request, retry)
        try:
            created = (
                services.sign_up_from_claim(
                    award=claimed,
                    email=email,
                    password=form.cleaned_data["password"],
                    name=form.cleaned_data["name"],
                )
                if claimed is not None
                else None
            )
            if created is None:
                services.request_sign_up(
                    email=email,
                    password=form.cleaned_data["password"],
                    name=form.cleaned_data["name"],
                    next_path=next_path,
                )
        except ValidationError as failure:
            if hasattr(failure, "error_dict"):
                for name, errors in failure.error_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error("password", failure)
        else:
            if created is not None and claimed is not None:
                login(request, created, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(
                    request, _("Your account is ready. The badge is in your backpack.")
                )
                if claimed.claimed_at is None:
                    return redirect(next_path)
                return redirect("earners:badge", award_id=claimed.pk)
            messages.success(
                request,
                _("We sent a message to %(email)s. Follow the link in it to continue.")
                % {"email": email},
            )
            return redirect("earners:signup_sent")
    return render(
        request,
        "earners/signup.html",
        {"form": form, "claim": claim, "claimed": claimed, "next": "" if claim else next_path},
        status=400 if form.errors else 200,
    )


@require_POST
def accept_claim(request: HttpRequest, token: str) -> HttpResponse:
    """The claim page's "Accept" (its form posts here): accept the badge, store whether its
    public page shows the learner's name, and, for a signed-in learner, put it in the
    backpack when the link proves the address (``services.accept_claim_signed_in``). With
    ``then=signup`` the learner continues to the pre-filled sign-up."""
    award = _claimed_award(token)
    if award is None:
        raise Http404
    claim_page = _claim_url(token)
    if award.status == AwardStatus.REVOKED:
        return redirect(claim_page)
    form = ClaimForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("show_name", [])))
        return redirect(claim_page)
    user = (
        request.user if isinstance(request.user, User) and request.user.is_authenticated else None
    )
    mine = services.accept_claim(award=award, show_name=form.cleaned_data["show_name"], user=user)
    if mine:
        messages.success(request, _("The badge is in your backpack."))
        return redirect("earners:badge", award_id=award.pk)
    if user is not None:
        messages.info(
            request,
            _(
                "This badge was sent to an address your account has not confirmed. Add it "
                "under E-mail addresses and confirm it to keep the badge here."
            ),
        )
        return redirect(claim_page)
    if form.cleaned_data["then"] == "signup":
        return redirect(f"{reverse('earners:signup')}?{urlencode({'claim': token})}")
    return redirect(claim_page)


@require_safe
def sign_up_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "earners/signup_sent.html")


login_view = auth_views.LoginView.as_view(
    template_name="earners/login.html",
    authentication_form=SignInForm,
    redirect_authenticated_user=True,
    next_page="earners:backpack",
)


@require_safe
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm an address. The first confirmation of a new account's sign-in address ends
    its sign-up: it signs the learner in (the link reached their mailbox) and continues to
    the ``next`` page the sign-up asked for."""
    try:
        confirmation = services.confirm_email(token=token)
    except ValidationError as failure:
        return render(
            request, "earners/verify_failed.html", {"error": " ".join(failure.messages)}, status=400
        )
    address = confirmation.address
    owner = address.user
    if (
        confirmation.completes_sign_up
        and not request.user.is_authenticated
        and owner.is_active
        and not (owner.is_staff or owner.is_superuser)
    ):
        login(request, owner, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("%(email)s is confirmed.") % {"email": address.email})
    target = _local_path(request, request.GET.get("next", ""))
    if target and request.user.is_authenticated:
        return redirect(target)
    return redirect("earners:backpack" if request.user.is_authenticated else "earners:login")


def _filtered(
    request: HttpRequest, user: User, awards: QuerySet[Award]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    issuer = request.GET.get("issuer", "")
    skill = request.GET.get("skill", "")
    status = request.GET.get("status", "")
    rows = []
    issuers: dict[str, str] = {}
    skills: set[str] = set()
    for award in awards:
        document = award.credential
        tags = [
            str(t)
            for t in document.get("credentialSubject", {}).get("achievement", {}).get("tag", [])
        ]
        state = award_state(award)
        issuers[award.issuer.slug] = issuer_name(award)
        skills.update(tags)
        if issuer and award.issuer.slug != issuer:
            continue
        if skill and skill not in tags:
            continue
        if status and state.state != status:
            continue
        rows.append(
            {
                "award": award,
                "name": credential_name(award),
                "issuer": issuer_name(award),
                "state": state,
                "skills": tags,
                # The learner's choices, or the protective defaults they have not changed.
                "preference": selectors.preference_of(award)
                or AwardPreference(award=award, user=user),
            }
        )
    filters = {
        "issuers": sorted(issuers.items(), key=lambda item: item[1]),
        "skills": sorted(skills),
        "states": [(s.value, STATE_LABELS[s]) for s in State],
        "issuer": issuer,
        "skill": skill,
        "status": status,
    }
    return rows, filters


@learner
def backpack(request: HttpRequest, user: User) -> HttpResponse:
    awards = selectors.backpack(user).select_related("preference", "preference__superseded_by")
    rows, filters = _filtered(request, user, awards)
    unverified = LearnerEmail.objects.filter(user=user, verified_at__isnull=True)
    return render(
        request,
        "earners/backpack.html",
        {
            "rows": rows,
            "filters": filters,
            "unverified": unverified,
            "total": len(awards),
            "imported": ImportedBadge.objects.filter(user=user),
        },
    )


@learner
@require_http_methods(["GET", "HEAD", "POST"])
def badge(request: HttpRequest, user: User, award_id: uuid.UUID) -> HttpResponse:
    award = selectors.award_of(user, award_id)
    preference = selectors.preference_of(award)
    initial = {
        "visibility": preference.visibility if preference else "link",
        "show_name": preference.show_name if preference else False,
        "include_evidence": preference.include_evidence if preference else False,
    }
    if request.method == "POST" and request.POST.get("action") == "identity":
        try:
            identity_services.request_identity_change(
                user=user,
                award=award,
                new_email=request.POST.get("new_email", ""),
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as failure:
            messages.error(request, " ".join(failure.messages))
        else:
            messages.success(request, _("Your request was sent to the issuer."))
        return redirect("earners:badge", award_id=award.pk)
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.set_award_preference(user=user, award=award, **form.cleaned_data)
        messages.success(request, _("Your privacy choices are saved."))
        return redirect("earners:badge", award_id=award.pk)
    stats = selectors.award_stats(award)
    return render(
        request,
        "earners/badge.html",
        {
            "award": award,
            "name": credential_name(award),
            "issuer": issuer_name(award),
            "state": award_state(award),
            "form": form,
            "stats": stats,
            "chart": chart.bars_svg(stats),
            "superseded_by": preference.superseded_by if preference else None,
            "other_addresses": [
                e for e in selectors.verified_emails(user) if e != award.recipient_email
            ],
            "changes": IdentityChange.objects.filter(award=award),
        },
    )


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@learner
@require_safe
def certificate(request: HttpRequest, user: User, award_id: uuid.UUID) -> HttpResponse:
    award = selectors.award_of(user, award_id)
    return _pdf_response(pdf.cached_certificate(award), f"certificate-{award.pk}.pdf")


@learner
@require_http_methods(["GET", "HEAD", "POST"])
def emails(request: HttpRequest, user: User) -> HttpResponse:
    form = AddEmailForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action", "add")
        try:
            if action == "remove":
                services.remove_email(user=user, address_id=int(request.POST.get("address", 0)))
                messages.success(request, _("The address is removed."))
                return redirect("earners:emails")
            if action == "resend":
                services.resend_verification(
                    user=user, address_id=int(request.POST.get("address", 0))
                )
                messages.success(request, _("We sent the confirmation link again."))
                return redirect("earners:emails")
            if form.is_valid():
                address = services.add_email(user=user, email=form.cleaned_data["email"])
                messages.success(
                    request,
                    _("We sent a confirmation link to %(email)s.") % {"email": address.email},
                )
                return redirect("earners:emails")
        except ValidationError as failure:
            form.add_error(None, failure.messages)
        except (PermissionDenied, ValueError):
            raise Http404 from None
    addresses = LearnerEmail.objects.filter(user=user)
    identities = InstitutionalIdentity.objects.filter(user=user).select_related("institution")
    return render(
        request,
        "earners/emails.html",
        {"form": form, "addresses": addresses, "identities": identities},
        status=400 if form.errors else 200,
    )


@learner
@require_http_methods(["GET", "HEAD", "POST"])
def profile_settings(request: HttpRequest, user: User) -> HttpResponse:
    profile = selectors.profile_of(user)
    form = ProfileForm(
        request.POST or None,
        initial={"public": profile.public, "display_name": profile.display_name},
    )
    if request.method == "POST" and form.is_valid():
        services.set_profile(user=user, **form.cleaned_data)
        messages.success(request, _("Your profile settings are saved."))
        return redirect("earners:profile_settings")
    return render(request, "earners/profile_settings.html", {"form": form, "profile": profile})


@require_safe
def public_profile(request: HttpRequest, slug: str) -> HttpResponse:
    """A learner's public page: only badges they made public; 404 unless they opted in."""
    profile = get_object_or_404(
        LearnerProfile.objects.select_related("user"), slug=slug, public=True
    )
    awards = [
        {"award": a, "name": credential_name(a), "issuer": issuer_name(a), "state": award_state(a)}
        for a in selectors.public_awards(profile.user)
    ]
    return render(request, "earners/public_profile.html", {"profile": profile, "awards": awards})


@learner
@require_http_methods(["GET", "HEAD", "POST"])
def collections(request: HttpRequest, user: User) -> HttpResponse:
    form = CollectionForm(request.POST or None)
    mine = list(selectors.backpack(user))
    if request.method == "POST" and form.is_valid():
        chosen = {str(v) for v in request.POST.getlist("awards")}
        awards = [a for a in mine if str(a.pk) in chosen]
        expires = form.cleaned_data["expires_on"]
        expires_at = (
            timezone.make_aware(dt.datetime.combine(expires, dt.time(23, 59, 59)))
            if expires
            else None
        )
        try:
            collection = services.create_collection(
                user=user, name=form.cleaned_data["name"], awards=awards, expires_at=expires_at
            )
        except ValidationError as failure:
            for name, errors in failure.error_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("The collection is ready to share."))
            return redirect("earners:collection", collection_id=collection.pk)
    rows = [{"award": a, "name": credential_name(a), "issuer": issuer_name(a)} for a in mine]
    return render(
        request,
        "earners/collections.html",
        {"form": form, "collections": selectors.collections_of(user), "rows": rows},
        status=400 if form.errors else 200,
    )


@learner
@require_http_methods(["GET", "HEAD", "POST"])
def collection(request: HttpRequest, user: User, collection_id: uuid.UUID) -> HttpResponse:
    found = selectors.collection_of(user, collection_id)
    if request.method == "POST":
        services.revoke_collection(user=user, collection=found)
        messages.success(request, _("The link no longer works."))
        return redirect("earners:collection", collection_id=found.pk)
    stats = selectors.collection_stats(found)
    share_url = request.build_absolute_uri(reverse("earners:shared", args=[found.token]))
    return render(
        request,
        "earners/collection.html",
        {
            "collection": found,
            "share_url": share_url,
            "stats": stats,
            "chart": chart.bars_svg(stats),
            "names": [credential_name(a) for a in found.awards.all()],
        },
    )


def _verified(awards: list[Award]) -> list[dict[str, Any]]:
    """Each badge checked live by the verify pipeline (from the database, no HTTP)."""
    rows = []
    for award in awards:
        report = pipeline.verify(pipeline.VerifyRequest(url=credential_url(award.pk)))
        rows.append(
            {
                "award": award,
                "name": credential_name(award),
                "issuer": issuer_name(award),
                "report": report,
                "verdict": str(report.verdict),
                "headline": report.headline,
            }
        )
    return rows


@require_http_methods(["GET", "HEAD", "POST"])
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """A collection as a third party sees it: each badge verified live. A verifier may name
    its organisation; that name (and nothing about the reader) is what the learner sees."""
    found = selectors.open_collection(token)
    awards = list(found.awards.select_related("issuer__institution", "achievement_version"))
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data["organisation"]
        services.record_view(
            collection=found,
            channel=Channel.COLLECTION,
            kind=Kind.VERIFICATION,
            organisation=organisation,
        )
        for award in awards:
            services.record_view(
                award=award,
                channel=Channel.COLLECTION,
                kind=Kind.VERIFICATION,
                organisation=organisation,
            )
        messages.success(
            request, _("Thank you. The holder will see that the badges were verified.")
        )
        # Back to the page without counting that return visit as another view.
        return redirect(reverse("earners:shared", args=[token]) + "?verified=1")
    channel = services.channel_of(request)
    if channel is not None and "verified" not in request.GET:
        services.record_view(collection=found, channel=channel)
    profile = LearnerProfile.objects.filter(user=found.owner).first()
    owner_name = (profile.display_name if profile else "") or found.owner.name
    response = render(
        request,
        "earners/shared.html",
        {"collection": found, "rows": _verified(awards), "form": form, "owner_name": owner_name},
    )
    response["X-Robots-Tag"] = "noindex"
    # The secret link must not leak to other sites; same-origin keeps the CSRF Origin check.
    response["Referrer-Policy"] = "same-origin"
    return response


@require_safe
def transcript(request: HttpRequest, token: str) -> HttpResponse:
    found = selectors.open_collection(token)
    awards = list(found.awards.select_related("issuer__institution", "achievement_version"))
    profile = LearnerProfile.objects.filter(user=found.owner).first()
    owner_name = (profile.display_name if profile else "") or found.owner.name
    return _pdf_response(
        pdf.cached_transcript(found.name, owner_name, awards), f"transcript-{found.pk}.pdf"
    )


@learner
@require_http_methods(["GET", "HEAD", "POST"])
def account(request: HttpRequest, user: User) -> HttpResponse:
    """Export everything (zip) or delete the account."""
    error = ""
    if request.method == "POST":
        try:
            services.delete_account(user=user, password=request.POST.get("password", ""))
        except ValidationError as failure:
            error = " ".join(failure.messages)
        else:
            logout(request)
            messages.success(request, _("Your account and everything kept for it are deleted."))
            return redirect("home")
    return render(request, "earners/account.html", {"error": error}, status=400 if error else 200)


@learner
@require_safe
def export_data(request: HttpRequest, user: User) -> HttpResponse:
    response = HttpResponse(export.export_zip(user), content_type="application/zip")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="insignia-export-{stamp}.zip"'
    return response
