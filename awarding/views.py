"""The staff console's award pages: award one badge, one award (revoke after a confirmation,
suspend, reinstate, re-issue, e-mail again), revocation by a list of ids, and the review of a
pathway credential whose counted badge was revoked. The awards list, its bulk actions and
exports are ``awarding.list_views``."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from awarding import awards_list, rules, services
from awarding.forms import AwardForm, BulkRevokeForm, StatusChangeForm
from awarding.revocation import services as revocation
from badges import selectors
from badges.models import Achievement, Award, AwardStatus
from badges.notifications import services as notification_services
from badges.state import award_state
from frameworks.catalogue import policies as catalogue_policies
from frameworks.catalogue import selectors as catalogue_selectors
from frameworks.pathways import selectors as pathway_selectors
from frameworks.pathways import services as pathway_services
from frameworks.pathways.forms import PathwayReviewForm
from issuers import selectors as issuer_selectors
from issuers.console import apply_errors, console, console_context, request_user
from issuers.keys import SigningUnavailable
from issuers.models import Institution, Role
from issuers.permissions import can_edit_some_issuer, has_role


@console()
def award_create(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    """Award the latest published version of a micro-credential to one learner."""
    user = request_user(request)
    found = selectors.achievement_for(user, institution, achievement, Role.AWARDER)
    version = selectors.latest_published(found)
    if version is None:
        messages.error(request, _("Publish this micro-credential before awarding it."))
        return redirect("manage:achievement_detail", institution.slug, found.pk)
    status = 200
    credit_value = rules.credit_value(catalogue_selectors.placement_of(version))
    data = request.POST if request.method == "POST" else None
    form = AwardForm(data, languages=version.languages(), credit_value=credit_value)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            email, identifier_type, identifier = form.recipient()
            try:
                award = services.award_badge(
                    actor=user,
                    version=version,
                    email=email,
                    identifier_type=identifier_type,
                    identifier=identifier,
                    name=form.cleaned_data["name"],
                    language=form.cleaned_data["language"],
                    narrative=form.cleaned_data["narrative"],
                    valid_until=form.expiry(),
                    credits_earned=form.cleaned_data.get("credits_earned"),
                    evidence=form.evidence(),
                )
            except ValidationError as error:
                apply_errors(form, error)
            except SigningUnavailable as error:
                form.add_error(None, str(error))
                status = 503
            else:
                link = reverse("credential", args=[award.pk])
                done = (
                    _("Badge awarded.")
                    if award.recipient_email
                    else _(
                        "Badge awarded to %(who)s. No e-mail is sent: the learner finds the "
                        "badge by signing in through your institution."
                    )
                    % {"who": award.identifier_label}
                )
                messages.success(
                    request,
                    format_html('{} <a href="{}">{}</a>', done, link, _("Open the credential")),
                )
                return redirect("manage:awards", institution.slug)
    context = console_context(
        request,
        institution,
        form=form,
        achievement=found,
        version=version,
        unmet=catalogue_policies.unmet_for(version),
        can_fix_placement=has_role(user, institution, Role.EDITOR, found.issuer),
    )
    return render(request, "badges/award_form.html", context, status=status)


_STATUS_ACTIONS: dict[str, Any] = {
    "revoke": revocation.revoke_award,
    "suspend": revocation.suspend_award,
    "reinstate": revocation.reinstate_award,
}


def _award_context(
    request: HttpRequest, institution: Institution, award: Award, **extra: Any
) -> dict[str, Any]:
    user = request_user(request)
    current = award_state(award)
    reissued_as = selectors.reissue_of(award)
    return console_context(
        request,
        institution,
        award=award,
        state=current,
        can_change=revocation.can_change_status(user, award),
        can_reissue=(
            current.is_expired
            and has_role(user, institution, Role.AWARDER, award.issuer)
            and reissued_as is None
        ),
        reissued_as=reissued_as,
        events=award.status_events.select_related("actor").order_by("-at", "-pk"),
        entries=award.status_entries.order_by("purpose"),
        **extra,
    )


@console()
def award_detail(request: HttpRequest, institution: Institution, award: uuid.UUID) -> HttpResponse:
    found = selectors.award_for(request_user(request), institution, award, None)
    context = _award_context(request, institution, found, form=StatusChangeForm())
    return render(request, "badges/award_detail.html", context)


@require_POST
@console()
def award_revoke(
    request: HttpRequest, institution: Institution, award: uuid.UUID, action: str
) -> HttpResponse:
    """Revoke, suspend or reinstate one award (``action``). Owners and editors."""
    user = request_user(request)
    found = selectors.award_for(user, institution, award, Role.EDITOR)
    form = StatusChangeForm(request.POST)
    if (
        action == "revoke"
        and request.POST.get("step") == "review"
        and form.is_valid()
        and form.cleaned_data["reason"].strip()
    ):
        # Revoking is final: first show whose badge it is, then revoke on a second press (an
        # empty reason goes on to be refused by the service, nothing revoked).
        context = _award_context(request, institution, found, form=form)
        return render(request, "badges/award_revoke_confirm.html", context)
    if form.is_valid():
        try:
            _STATUS_ACTIONS[action](
                actor=user,
                award=found,
                reason=form.cleaned_data["reason"],
                notify_earner=form.cleaned_data["notify_earner"],
                via="console",
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            done = {
                "revoke": _("The badge is revoked."),
                "suspend": _("The badge is suspended."),
                "reinstate": _("The badge is valid again."),
            }
            messages.success(request, done[action])
            return redirect("manage:award_detail", institution.slug, found.pk)
    context = _award_context(request, institution, found, form=form, failed_action=action)
    return render(request, "badges/award_detail.html", context, status=400)


@require_POST
@console()
def award_reissue(request: HttpRequest, institution: Institution, award: uuid.UUID) -> HttpResponse:
    """Re-issue an expired award: a new credential keeping ``awardedDate``."""
    user = request_user(request)
    found = selectors.award_for(user, institution, award, Role.AWARDER)
    try:
        new = services.reissue_expired(actor=user, award=found)
    except (ValidationError, SigningUnavailable) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
        return redirect("manage:award_detail", institution.slug, found.pk)
    messages.success(request, _("A new credential was issued; it keeps the first award date."))
    return redirect("manage:award_detail", institution.slug, new.pk)


def _latest_name(achievement: Achievement) -> str:
    return awards_list.latest_name(achievement)  # versions prefetched in number order


@console()
def award_bulk_revoke(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Revoke many awards at once: choose, see how many match, confirm. Owners and editors."""
    user = request_user(request)
    if not can_edit_some_issuer(user, institution, Role.EDITOR):
        raise PermissionDenied
    achievements = [
        (str(a.pk), f"{a.issuer.name} · {_latest_name(a)}")
        for a in selectors.achievements_of(institution)
        if has_role(user, institution, Role.EDITOR, a.issuer)
    ]
    matched: int | None = None
    status = 200
    if request.method == "POST" and "reason" not in request.POST:
        # Coming from the awards list with some rows ticked.
        selected = request.POST.getlist("selected")
        form = BulkRevokeForm(
            initial={"references": "\n".join(selected)}, achievements=achievements
        )
    elif request.method == "POST":
        form = BulkRevokeForm(request.POST, request.FILES, achievements=achievements)
        if form.is_valid():
            chosen = form.cleaned_data["achievement"]
            start, end = form.day_bounds()
            references = form.cleaned_data["reference_list"]
            try:
                if not (chosen or start or end or references):
                    raise ValidationError(_("Choose which badges to revoke."))
                # Only awards of issuers the person may revoke for are matched and counted:
                # staff of one issuer learn nothing of a sibling issuer's learners here.
                revocable = [
                    issuer.pk
                    for issuer in issuer_selectors.issuers_of(institution)
                    if has_role(user, institution, Role.EDITOR, issuer)
                ]
                awards = selectors.awards_matching(
                    institution,
                    achievement=selectors.achievement_for(
                        user, institution, uuid.UUID(chosen), Role.EDITOR
                    )
                    if chosen
                    else None,
                    awarded_from=start,
                    awarded_until=end,
                    references=references,
                ).filter(issuer_id__in=revocable)
                matched = awards.exclude(status=AwardStatus.REVOKED).count()
                # Revoke only what the person saw counted; changed criteria count again.
                expected = request.POST.get("expected")
                if form.cleaned_data["confirm"] and matched and expected == str(matched):
                    result = revocation.bulk_revoke(
                        actor=user,
                        awards=awards,
                        reason=form.cleaned_data["reason"],
                        notify_earner=form.cleaned_data["notify_earner"],
                        via="bulk",
                    )
                    messages.success(
                        request,
                        ngettext("%(n)s badge revoked.", "%(n)s badges revoked.", result.revoked)
                        % {"n": result.revoked},
                    )
                    return redirect("manage:awards", institution.slug)
            except ValidationError as error:
                apply_errors(form, error)
                matched = None
                status = 400
    else:
        form = BulkRevokeForm(achievements=achievements)
    context = console_context(request, institution, form=form, matched=matched)
    return render(request, "badges/awards_revoke.html", context, status=status)


@require_POST
@console()
def award_resend(request: HttpRequest, institution: Institution, award: uuid.UUID) -> HttpResponse:
    """E-mail the learner the claim link again."""
    user = request_user(request)
    found = selectors.award_for(user, institution, award, Role.AWARDER)
    try:
        notification_services.resend_award_email(actor=user, award=found)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("The e-mail is on its way to %(email)s.") % {"email": found.recipient_email}
        )
    return redirect("manage:awards", institution.slug)


@require_POST
@console(Role.EDITOR)
def pathway_review(
    request: HttpRequest, institution: Institution, completion: uuid.UUID
) -> HttpResponse:
    """Staff answer a pathway award flagged for review: keep it, or revoke it."""
    user = request_user(request)
    found = pathway_selectors.completion_for(user, institution, completion, Role.EDITOR)
    form = PathwayReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether to keep or revoke the pathway credential."))
        return redirect("manage:pathways", institution=institution.slug)
    note = form.cleaned_data["note"]
    try:
        if form.cleaned_data["decision"] == "revoke":
            revocation.revoke_pathway_credential(actor=user, completion=found, reason=note)
            messages.success(request, _("The pathway credential was revoked."))
        else:
            pathway_services.keep_completion(actor=user, completion=found, note=note)
            messages.success(request, _("Reviewed: the pathway credential stands."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("manage:pathways", institution=institution.slug)
