"""The console's "Badges from the course (LTI)" pages: what to give the LMS administrator,
the registered course platforms (owners register them by hand or make a one-time
registration link), the badges instructors placed in courses with a "Check now", and the
course awards whose grade changed, for a staff member to keep or revoke.

A registration link's URL is rendered in the answer to the POST that made it and nowhere
else (not in the session or a message, both stored; the answer is not cached): only its hash
is kept. Actions that change something are POSTs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from issuers.console import apply_errors, console, console_context, request_user
from issuers.models import Institution, Role
from issuers.permissions import has_role
from lti import configuration, selectors, services, sync
from lti.forms import DecisionForm, InviteForm, PlatformForm
from lti.models import Grant, Placement, Platform, Rule


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{_number(value)}%"


def rule_text(placement: Placement) -> str:
    """How a placed badge is earned, in a few words."""
    if placement.rule == Rule.SCORE and placement.min_score is not None:
        return _("score ≥ %(score)s%%") % {"score": _number(placement.min_score)}
    if placement.rule == Rule.COLUMN:
        return _("grade in “%(column)s”") % {"column": placement.column}
    return _("on opening")


@dataclass(frozen=True)
class PlacementRow:
    badge: selectors.PlacedBadge
    rule: str
    checkable: bool


@dataclass(frozen=True)
class ReviewRow:
    grant: Grant
    score: str
    latest: str


def _page(
    request: HttpRequest,
    institution: Institution,
    *,
    invite_form: InviteForm | None = None,
    new_link: str = "",
    new_name: str = "",
    status: int = 200,
) -> HttpResponse:
    placements = [
        PlacementRow(
            badge=badge,
            rule=rule_text(badge.placement),
            checkable=(
                badge.placement.active
                and badge.placement.rule != Rule.LAUNCH
                and badge.placement.course.platform.enabled
            ),
        )
        for badge in selectors.placements_of(institution)
    ]
    review = [
        ReviewRow(grant=g, score=_percent(g.score), latest=_percent(g.latest_score))
        for g in selectors.review_queue(institution)
    ]
    context = console_context(
        request,
        institution,
        urls=selectors.tool_urls(request, institution),
        scopes=selectors.SCOPES,
        platforms=selectors.platforms_of(institution),
        invites=selectors.open_invites(institution),
        invite_form=invite_form or InviteForm(),
        new_link=new_link,
        new_name=new_name,
        placements=placements,
        review=review,
    )
    response = render(request, "lti/console.html", context, status=status)
    if new_link:
        add_never_cache_headers(response)  # the answer holds the link
    return response


def _back(request: HttpRequest, institution: Institution) -> HttpResponse:
    """To the LTI page, or the console's overview for someone who cannot see it."""
    if has_role(request_user(request), institution, Role.EDITOR):
        return redirect("manage:lti", institution=institution.slug)
    return redirect("manage:dashboard", institution=institution.slug)


@console(Role.EDITOR)
def overview(request: HttpRequest, institution: Institution) -> HttpResponse:
    return _page(request, institution)


# --------------------------------------------------------------------------------------------
# Platforms (owners)
# --------------------------------------------------------------------------------------------


def _platform_page(
    request: HttpRequest, institution: Institution, found: Platform | None
) -> HttpResponse:
    instance = found if found is not None else Platform(institution=institution)
    title = found.name if found is not None else ""
    form = PlatformForm(request.POST if request.method == "POST" else None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = configuration.save_platform(
                actor=request_user(request),
                institution=institution,
                platform=form.save(commit=False),
                deployment_ids=form.cleaned_data["deployment_ids"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("“%(name)s” is saved.") % {"name": saved.name})
            return redirect("manage:lti", institution=institution.slug)
    context = console_context(
        request,
        institution,
        form=form,
        platform=found,
        title=title,
        urls=selectors.tool_urls(request, institution),
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "lti/console_platform_form.html", context, status=status)


@console(Role.OWNER)
def platform_new(request: HttpRequest, institution: Institution) -> HttpResponse:
    return _platform_page(request, institution, None)


@console(Role.OWNER)
def platform_edit(
    request: HttpRequest, institution: Institution, platform: uuid.UUID
) -> HttpResponse:
    return _platform_page(request, institution, selectors.platform_for(institution, platform))


@console(Role.OWNER)
def platform_remove(
    request: HttpRequest, institution: Institution, platform: uuid.UUID
) -> HttpResponse:
    found = selectors.platform_for(institution, platform)
    if request.method == "POST":
        configuration.remove_platform(actor=request_user(request), platform=found)
        messages.success(request, _("“%(name)s” is removed.") % {"name": found.name})
        return redirect("manage:lti", institution=institution.slug)
    context = console_context(
        request, institution, platform=found, counts=selectors.removal_counts(found)
    )
    return render(request, "lti/console_platform_remove.html", context)


# --------------------------------------------------------------------------------------------
# Registration links (owners)
# --------------------------------------------------------------------------------------------


@console(Role.OWNER)
@require_POST
def invite_new(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Make a registration link; the answer shows its URL, once."""
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invite, token = configuration.create_invite(
                actor=request_user(request), institution=institution, name=form.cleaned_data["name"]
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            link = selectors.registration_url(request, token)
            return _page(request, institution, new_link=link, new_name=invite.name)
    return _page(request, institution, invite_form=form, status=400)


@console(Role.OWNER)
@require_POST
def invite_revoke(request: HttpRequest, institution: Institution, invite: int) -> HttpResponse:
    found = selectors.invite_for(institution, invite)
    try:
        configuration.revoke_invite(actor=request_user(request), invite=found)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("The registration link “%(name)s” is withdrawn.") % {"name": found.name}
        )
    return redirect("manage:lti", institution=institution.slug)


# --------------------------------------------------------------------------------------------
# Placed badges and reviews
# --------------------------------------------------------------------------------------------


def _summary(report: services.SyncReport) -> str:
    return _(
        "Checked: %(awarded)s awarded, %(flagged)s flagged for review, %(failed)s could not "
        "be awarded."
    ) % {"awarded": report.awarded, "flagged": report.flagged, "failed": report.failed}


@console(Role.AWARDER)
@require_POST
def check(request: HttpRequest, institution: Institution, placement: uuid.UUID) -> HttpResponse:
    """Read the course's grades now and award whoever meets the placed badge's rule."""
    found = selectors.placement_for(institution, placement)
    if not found.course.platform.enabled:
        messages.error(request, _("The course platform is disabled: nothing was checked."))
    elif found.rule == Rule.LAUNCH or not found.active:
        messages.info(
            request, _("This badge is awarded when a learner opens it: there is nothing to check.")
        )
    else:
        report = sync.sync_placement(found)
        if report.errors and not report.failed:
            messages.error(request, _("The check failed: %(error)s") % {"error": report.errors[0]})
        elif report.failed:
            messages.warning(request, _summary(report))
        else:
            messages.success(request, _summary(report))
    return _back(request, institution)


@console(Role.AWARDER)
@require_POST
def decide(request: HttpRequest, institution: Institution, grant: int) -> HttpResponse:
    """Keep or revoke a course award whose grade changed (revoking needs an editor)."""
    row = selectors.grant_for(institution, grant)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to keep or to revoke the badge."))
        return _back(request, institution)
    revoke = form.cleaned_data["decision"] == "revoke"
    try:
        services.decide(
            actor=request_user(request),
            row=row,
            revoke=revoke,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        person = row.name or row.email or row.lms_user_id
        if revoke:
            text = _("The badge of %(person)s is revoked.")
        else:
            text = _("The badge of %(person)s is kept.")
        messages.success(request, text % {"person": person})
    return _back(request, institution)
