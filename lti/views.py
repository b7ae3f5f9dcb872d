"""The tool's public endpoints and the pages a person sees after launching from their course.

Endpoints given to the LMS (per institution, ``/lti/<institution>/...``): OIDC login
initiation, the launch (redirect) URL, the deep-linking URL (the same launch URL; the message
type decides), the tool keyset. After a launch: the instructor's badge picker (deep linking),
the placed badge's page (instructors: who earned it, "Check now"), the learner's page (the
course's badges, theirs, "Add to my backpack"), and connecting an LMS account to an Insignia
account.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from accounts.models import User
from issuers.keys import SigningUnavailable
from issuers.models import Institution
from lti import keys, launches, registration, services, sync
from lti.launches import BROWSER_COOKIE
from lti.models import Grant, Launch, Placement, Rule
from lti.tool import LaunchRefused, ToolRegistration
from signon import selectors as signon_selectors

log = logging.getLogger(__name__)


def _institution(slug: str) -> Institution:
    return get_object_or_404(Institution, slug=slug)


def refused(request: HttpRequest, error: LaunchRefused, institution: str) -> HttpResponse:
    """The clear page every refused login or launch gets (and the reason in the log)."""
    log.warning("lti: %s refused: %s", institution, error.reason)
    context = {"message": error.message}
    return render(request, "lti/launch_error.html", context, status=error.status)


def _set_browser_cookie(request: HttpRequest, response: HttpResponse, value: str) -> None:
    # The launch is a cross-site POST from the LMS: over https the cookie must be
    # SameSite=None to come back with it (and inside an LMS frame); over plain http (a test
    # LMS on this machine) browsers refuse SameSite=None without Secure, and Lax does.
    secure = request.is_secure()
    response.set_cookie(
        BROWSER_COOKIE,
        value,
        max_age=60 * 60 * 12,
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
        path="/lti/",
    )


# --------------------------------------------------------------------------------------------
# Endpoints the LMS calls
# --------------------------------------------------------------------------------------------


@never_cache
@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest, institution: str) -> HttpResponse:
    """OIDC third-party initiated login (LTI 1.3 §5.1.1)."""
    found = _institution(institution)
    launch_url = request.build_absolute_uri(reverse("lti:launch", args=[institution]))
    try:
        url, cookie = launches.begin_login(request, found, launch_url)
    except LaunchRefused as error:
        return refused(request, error, institution)
    response = redirect(url)
    _set_browser_cookie(request, response, cookie)
    return response


@never_cache
@csrf_exempt
@xframe_options_exempt
@require_POST
def launch(request: HttpRequest, institution: str) -> HttpResponse:
    """The platform's signed launch, checked in full, then a same-site step (see
    ``lti.launches``)."""
    found = _institution(institution)
    try:
        received = launches.receive(request, found)
    except LaunchRefused as error:
        return refused(request, error, institution)
    context = {
        "title": _("Opening Insignia"),
        "message": _("Your course platform has confirmed who you are."),
        "hint": _("JavaScript is off: press the button to go on."),
        "button": _("Continue"),
        "action": reverse("lti:finish", args=[institution, received.key]),
        "fields": [],
    }
    return render(request, "auto_post.html", context)


@never_cache
@csrf_exempt
@xframe_options_exempt
@require_POST
def finish(request: HttpRequest, institution: str, key: str) -> HttpResponse:
    """Same-site now: the browser must be the one that started the login. Signs the person
    in (a learner's account is made on first launch) and goes on to the launch's page."""
    found = _institution(institution)
    try:
        current = launches.launch_for(request, found, key)
        return _route(request, current)
    except LaunchRefused as error:
        return refused(request, error, institution)


def _route(request: HttpRequest, current: Launch) -> HttpResponse:
    slug = current.platform.institution.slug
    page = redirect("lti:page", slug, current.key)
    placement = services.record_launch(current)
    if placement is not None and not launches.is_staff(current.claims):
        # Earned by opening it: awarded now, whether or not the learner has an account yet.
        services.award_on_launch(placement, current)
    user = services.account_of(current)
    if user is None and not launches.is_staff(current.claims):
        if request.user.is_authenticated:
            return redirect("lti:connect", slug, current.key)
        user = services.learner_account(current)
    if user is None:
        return redirect("lti:connect", slug, current.key)
    services.sign_in(request, current, user)
    return page


@require_GET
def jwks(request: HttpRequest, institution: str) -> HttpResponse:
    """The tool's public keys for this institution (active, next, recently retired); 503 when
    its first key cannot be made (no key-encryption key), as SAML metadata answers."""
    try:
        keyset = keys.keyset(_institution(institution))
    except SigningUnavailable:
        response = JsonResponse({"error": "keyset temporarily unavailable"}, status=503)
        response["Retry-After"] = "60"
        return response
    response = JsonResponse(keyset)
    response["Cache-Control"] = "public, max-age=3600"
    return response


# --------------------------------------------------------------------------------------------
# After the launch
# --------------------------------------------------------------------------------------------


def _current(request: HttpRequest, institution: str, key: str) -> Launch:
    current = launches.launch_for(request, _institution(institution), key)
    if current.user_id is None or request.user.pk != current.user_id:
        raise LaunchRefused(
            _("Please open the badge again from your course."),
            reason="launch page without the launched person signed in",
            status=403,
        )
    return current


@never_cache
@require_http_methods(["GET", "POST"])
def page(request: HttpRequest, institution: str, key: str) -> HttpResponse:
    try:
        current = _current(request, institution, key)
        if current.message_type == launches.DEEP_LINKING:
            return _pick(request, current)
        placement = services.placement_in(current)
        if launches.is_staff(current.claims):
            return _instructor(request, current, placement)
        return _learner(request, current, placement)
    except LaunchRefused as error:
        return refused(request, error, institution)


def _pick(request: HttpRequest, current: Launch) -> HttpResponse:
    """Deep linking: the instructor picks a micro-credential and the rule, and the LMS gets
    a resource link that carries the placement."""
    user = request.user
    if not isinstance(user, User) or not launches.is_staff(current.claims):
        raise LaunchRefused(_("Only instructors can add badges to a course."), status=403)
    versions = services.placeable(user, current)
    settings_claim = launches.deep_linking(current.claims)
    course = services.course_in(current)
    errors: list[str] = []
    values: dict[str, Any] = {"rule": Rule.SCORE, "min_score": "80", "column": ""}
    if request.method == "POST" and versions:
        values = {
            "rule": request.POST.get("rule", ""),
            "min_score": request.POST.get("min_score", "").strip(),
            "column": request.POST.get("column", "").strip(),
            "achievement": request.POST.get("achievement", ""),
        }
        chosen = next((v for v in versions if str(v.achievement_id) == values["achievement"]), None)
        try:
            if chosen is None:
                raise ValidationError(_("Choose a micro-credential."))
            min_score = None
            if values["rule"] == Rule.SCORE:
                try:
                    min_score = Decimal(values["min_score"])
                except InvalidOperation:
                    raise ValidationError(
                        _("Give the minimum score as a percentage from 1 to 100.")
                    ) from None
            placement = services.place(
                launch=current,
                user=user,
                achievement=chosen.achievement,
                rule=values["rule"],
                min_score=min_score,
                column=values["column"],
            )
        except ValidationError as error:
            errors = error.messages
        except PermissionDenied:
            errors = [_("You do not hold the awarder role for this micro-credential's issuer.")]
        else:
            return _deep_link_response(request, current, placement, settings_claim)
    context = {
        "launch": current,
        "course": course,
        "versions": versions,
        "values": values,
        "errors": errors,
        "rules": Rule,
        "has_grades": bool(course.lineitems_url),
        "institution": current.platform.institution,
        "create_url": reverse(
            "manage:achievement_create", args=[current.platform.institution.slug]
        ),
    }
    return render(request, "lti/pick.html", context, status=400 if errors else 200)


def _deep_link_response(
    request: HttpRequest, current: Launch, placement: Placement, settings_claim: dict[str, Any]
) -> HttpResponse:
    return_url = str(settings_claim.get("deep_link_return_url", ""))
    if not return_url.startswith(("https://", "http://")):
        raise LaunchRefused(_("Your LMS did not say where to send the badge back to."))
    slug = current.platform.institution.slug
    resource = (
        DeepLinkResource()
        .set_url(request.build_absolute_uri(reverse("lti:launch", args=[slug])))
        .set_title(placement.title)
        .set_custom_params({services.PLACEMENT_PARAMETER: str(placement.pk)})
        .set_target("window")
    )
    if placement.rule == Rule.SCORE:
        resource.set_lineitem(
            LineItem()
            .set_label(placement.title)
            .set_score_maximum(100)
            .set_resource_id(str(placement.pk))
            .set_tag("insignia")
        )
    link = DeepLink(ToolRegistration(current.platform), current.deployment_id, settings_claim)  # type: ignore[arg-type]
    token = link.get_response_jwt([resource])
    context = {
        "title": _("Adding the badge to your course"),
        "message": _("“%(title)s” goes back to your course now.") % {"title": placement.title},
        "hint": _("JavaScript is off: press the button to go on."),
        "button": _("Back to the course"),
        "action": return_url,
        "fields": [("JWT", token)],
    }
    return render(request, "auto_post.html", context)


def _instructor(request: HttpRequest, current: Launch, placement: Placement | None) -> HttpResponse:
    if placement is None:
        raise LaunchRefused(
            _("This link does not name a badge. Add the badge again from your course."),
            status=404,
        )
    report = None
    if request.method == "POST" and request.POST.get("action") == "check":
        report = sync.sync_placement(placement)
        placement.refresh_from_db()
    grants = list(
        Grant.objects.filter(placement=placement).select_related("award").order_by("name")
    )
    context = {
        "launch": current,
        "placement": placement,
        "grants": grants,
        "report": report,
        "institution": current.platform.institution,
        "return_url": launches.return_url(current.claims),
    }
    return render(request, "lti/instructor.html", context)


def _learner(request: HttpRequest, current: Launch, placement: Placement | None) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    course = services.course_in(current)
    if request.method == "POST" and request.POST.get("action") == "claim":
        row = (
            Grant.objects.filter(pk=request.POST.get("grant", "0") or "0", course=course)
            .select_related("award", "course")
            .first()
        )
        if row is None:
            raise Http404
        try:
            services.claim(launch=current, user=user, row=row)
        except PermissionDenied:
            messages.error(request, _("This badge is not yours to add."))
        else:
            messages.success(request, _("The badge is in your backpack."))
        return redirect("lti:page", current.platform.institution.slug, current.key)
    placements = services.placements_in(course)
    mine = services.grants_of(course, current.subject)
    rows = [(p, mine.get(p.pk)) for p in placements]
    context = {
        "launch": current,
        "course": course,
        "rows": rows,
        "opened": placement,
        "institution": current.platform.institution,
        "return_url": launches.return_url(current.claims),
    }
    return render(request, "lti/learner.html", context)


# --------------------------------------------------------------------------------------------
# Connecting an LMS account to an Insignia account
# --------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def connect(request: HttpRequest, institution: str, key: str) -> HttpResponse:
    """The launched person has no Insignia account linked yet. Signed in: confirm the link.
    Not signed in: sign in (campus sign-on or password) and come back, or ask for access."""
    found = _institution(institution)
    try:
        current = launches.launch_for(request, found, key)
        here = reverse("lti:connect", args=[institution, key])
        user = request.user
        wants = request.POST.get("action") if request.method == "POST" else ""
        if wants == "connect" and isinstance(user, User):
            services.link_account(current, user)
            services.sign_in(request, current, user)
            return redirect("lti:page", institution, key)
        asked = False
        if wants == "request_access":
            services.request_access(current, translation.get_language() or "en")
            asked = True
        providers = signon_selectors.enabled_providers(found)
        staff = launches.is_staff(current.claims)
        context = {
            "launch": current,
            "institution": found,
            "staff": staff,
            "asked": asked,
            "name": current.claims.get("name", ""),
            "email": current.claims.get("email", ""),
            "platform": current.platform,
            "signon_url": reverse("signon:start", args=[institution])
            + "?"
            + urlencode({"next": here})
            if providers
            else "",
            "login_url": reverse("manage:login" if staff else "earners:login")
            + "?"
            + urlencode({"next": here}),
            "signup_url": reverse("earners:signup") + "?" + urlencode({"next": here}),
        }
        return render(request, "lti/connect.html", context)
    except LaunchRefused as error:
        return refused(request, error, institution)


# --------------------------------------------------------------------------------------------
# Dynamic registration
# --------------------------------------------------------------------------------------------


@never_cache
@xframe_options_exempt
@require_GET
def register(request: HttpRequest, token: str) -> HttpResponse:
    """LTI Dynamic Registration: the LMS opens the owner's one-time link (in a frame or a
    window) with its configuration URL and registration token."""
    try:
        platform = registration.register(request, token)
    except LaunchRefused as error:
        log.warning("lti: dynamic registration refused: %s", error.reason)
        return render(
            request, "lti/register_done.html", {"error": error.message}, status=error.status
        )
    return render(request, "lti/register_done.html", {"platform": platform})
