"""The staff console's micro-credential pages: create, edit, preview, publish and award."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import User
from badges import credentials, markdown, notifications, revocation, selectors, services
from badges.forms import (
    AchievementForm,
    AwardForm,
    BulkRevokeForm,
    NewAchievementForm,
    StatusChangeForm,
)
from badges.models import Achievement, AchievementVersion, Award, AwardStatus
from badges.state import award_state
from issuers import selectors as issuer_selectors
from issuers.keys import SigningUnavailable, issuer_did
from issuers.models import Institution, Role
from issuers.permissions import has_role, require_role, role_in
from issuers.views import console


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # console() signs in first; this narrows the type
        raise PermissionDenied
    return request.user


def _upload(request: HttpRequest, name: str) -> bytes | None:
    upload = request.FILES.get(name)
    return bytes(upload.read()) if isinstance(upload, UploadedFile) else None


def _form_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _context(request: HttpRequest, institution: Institution, **extra: Any) -> dict[str, Any]:
    user = _user(request)
    return {
        "institution": institution,
        "my_role": role_in(user, institution),
        "is_owner": has_role(user, institution, Role.OWNER),
        **extra,
    }


def _versions(achievement: Achievement) -> list[AchievementVersion]:
    return sorted(achievement.versions.all(), key=lambda v: v.number)


def _latest(versions: list[AchievementVersion]) -> AchievementVersion | None:
    return next((v for v in reversed(versions) if v.is_published), None)


def _draft(versions: list[AchievementVersion]) -> AchievementVersion | None:
    return next((v for v in versions if not v.is_published), None)


@console()
def achievement_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    user = _user(request)
    rows = []
    for achievement in selectors.achievements_of(institution):
        versions = _versions(achievement)
        rows.append(
            {
                "achievement": achievement,
                "current": _draft(versions) or versions[-1],
                "latest": _latest(versions),
                "draft": _draft(versions),
                "can_edit": has_role(user, institution, Role.EDITOR, achievement.issuer),
            }
        )
    can_create = any(
        has_role(user, institution, Role.EDITOR, issuer)
        for issuer in issuer_selectors.issuers_of(institution)
    )
    return render(
        request,
        "manage/achievements.html",
        _context(request, institution, rows=rows, can_create=can_create),
    )


@console()
def achievement_create(request: HttpRequest, institution: Institution) -> HttpResponse:
    user = _user(request)
    issuers = [
        issuer
        for issuer in issuer_selectors.issuers_of(institution)
        if has_role(user, institution, Role.EDITOR, issuer)
    ]
    if not issuers:
        raise PermissionDenied
    if request.method == "POST":
        form = NewAchievementForm(request.POST, request.FILES, issuers=issuers)
        if form.is_valid():
            try:
                achievement = services.create_achievement(
                    actor=user,
                    issuer=form.chosen_issuer(),
                    slug=form.cleaned_data["slug"],
                    image=_upload(request, "image"),
                    **form.content(),
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Draft saved. Preview it, then publish it."))
                return redirect("manage:achievement_detail", institution.slug, achievement.pk)
    else:
        form = NewAchievementForm(issuers=issuers)
    return render(
        request,
        "manage/achievements_form.html",
        _context(request, institution, form=form, achievement=None),
    )


@console()
def achievement_detail(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    user = _user(request)
    found = selectors.achievement_of(institution, achievement)
    versions = _versions(found)
    draft = _draft(versions)
    context = _context(
        request,
        institution,
        achievement=found,
        versions=list(reversed(versions)),
        draft=draft,
        latest=_latest(versions),
        problems=services.publish_problems(draft) if draft else [],
        can_edit=has_role(user, institution, Role.EDITOR, found.issuer),
        can_award=has_role(user, institution, Role.AWARDER, found.issuer),
        award_count=selectors.awards_of(institution)
        .filter(achievement_version__achievement=found)
        .count(),
    )
    return render(request, "manage/achievements_detail.html", context)


@console()
def achievement_edit(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    user = _user(request)
    found = selectors.achievement_of(institution, achievement)
    require_role(user, institution, Role.EDITOR, found.issuer)
    versions = _versions(found)
    current = _draft(versions) or versions[-1]
    if request.method == "POST":
        form = AchievementForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                version = services.save_draft(
                    actor=user, achievement=found, image=_upload(request, "image"), **form.content()
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(
                    request, _("Draft of version %(n)s saved.") % {"n": version.number}
                )
                return redirect("manage:achievement_detail", institution.slug, found.pk)
    else:
        form = AchievementForm.for_version(current)
    context = _context(request, institution, form=form, achievement=found, editing=current)
    return render(request, "manage/achievements_form.html", context)


@console()
def achievement_preview(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    found = selectors.achievement_of(institution, achievement)
    versions = _versions(found)
    version = _draft(versions) or versions[-1]
    languages = version.languages() or ["en"]
    previews = [
        {
            "language": language,
            "name": version.text("name", language),
            "description": version.text("description", language),
            "criteria_html": markdown.render(version.text("criteria", language)),
            "evidence_required": version.text("evidence_required", language),
            "json": json.dumps(
                credentials.achievement_document(version, language), ensure_ascii=False, indent=2
            ),
        }
        for language in languages
    ]
    context = _context(
        request,
        institution,
        achievement=found,
        version=version,
        previews=previews,
        issuer_did=issuer_did(found.issuer),
        problems=services.publish_problems(version) if not version.is_published else [],
    )
    return render(request, "manage/achievements_preview.html", context)


@require_POST
@console()
def achievement_publish(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    user = _user(request)
    found = selectors.achievement_of(institution, achievement)
    require_role(user, institution, Role.EDITOR, found.issuer)
    draft = services.draft_of(found)
    if draft is None:
        messages.error(request, _("There is no draft to publish."))
    else:
        try:
            services.publish_version(
                actor=user, version=draft, change_note=request.POST.get("change_note")
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("Version %(n)s is published and can be awarded.") % {"n": draft.number}
            )
    return redirect("manage:achievement_detail", institution.slug, found.pk)


def _credit_value(version: AchievementVersion) -> float | None:
    """The version's credit value (``creditsAvailable``), if it has one (issue #7)."""
    languages = version.languages()
    if not languages:
        return None
    return credentials.achievement(version, languages[0]).credits_available


@console()
def award_create(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    user = _user(request)
    found = selectors.achievement_of(institution, achievement)
    require_role(user, institution, Role.AWARDER, found.issuer)
    version = services.latest_published(found)
    if version is None:
        messages.error(request, _("Publish this micro-credential before awarding it."))
        return redirect("manage:achievement_detail", institution.slug, found.pk)
    status = 200
    credit_value = _credit_value(version)
    if request.method == "POST":
        form = AwardForm(request.POST, languages=version.languages(), credit_value=credit_value)
        if form.is_valid():
            try:
                award = services.award_badge(
                    actor=user,
                    version=version,
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    language=form.cleaned_data["language"],
                    narrative=form.cleaned_data["narrative"],
                    valid_until=form.expiry(),
                    credits_earned=form.cleaned_data.get("credits_earned"),
                    evidence=[
                        services.EvidenceItem(url=url, narrative=text)
                        for url, text in form.evidence()
                    ],
                )
            except ValidationError as error:
                _form_errors(form, error)
            except SigningUnavailable as error:
                form.add_error(None, str(error))
                status = 503
            else:
                link = reverse("credential", args=[award.pk])
                messages.success(
                    request,
                    format_html(
                        '{} <a href="{}">{}</a>',
                        _("Badge awarded."),
                        link,
                        _("Open the credential"),
                    ),
                )
                return redirect("manage:awards", institution.slug)
        if status == 200:
            status = 400
    else:
        form = AwardForm(languages=version.languages(), credit_value=credit_value)
    context = _context(request, institution, form=form, achievement=found, version=version)
    return render(request, "badges/award_form.html", context, status=status)


@console()
def award_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    user = _user(request)
    awards = selectors.awards_of(institution).prefetch_related("notifications")[:200]
    rows = [
        {"award": award, "state": award_state(award), "delivery": notifications.delivery(award)}
        for award in awards
    ]
    can_revoke = any(
        has_role(user, institution, Role.EDITOR, issuer)
        for issuer in issuer_selectors.issuers_of(institution)
    )
    context = _context(request, institution, awards=awards, rows=rows, can_revoke=can_revoke)
    return render(request, "badges/awards.html", context)


# --------------------------------------------------------------------------------------------
# Revocation, suspension, reinstatement, re-issue (issue #6)
# --------------------------------------------------------------------------------------------

_STATUS_ACTIONS: dict[str, Any] = {
    "revoke": revocation.revoke_award,
    "suspend": revocation.suspend_award,
    "reinstate": revocation.reinstate_award,
}


def _award_context(
    request: HttpRequest, institution: Institution, award: Award, **extra: Any
) -> dict[str, Any]:
    user = _user(request)
    current = award_state(award)
    return _context(
        request,
        institution,
        award=award,
        state=current,
        can_change=revocation.can_change_status(user, award),
        can_reissue=(
            current.is_expired
            and has_role(user, institution, Role.AWARDER, award.issuer)
            and not Award.objects.filter(reissued_from=award).exists()
        ),
        reissued_as=Award.objects.filter(reissued_from=award).first(),
        events=award.status_events.select_related("actor").order_by("-at", "-pk"),
        entries=award.status_entries.order_by("purpose"),
        **extra,
    )


@console()
def award_detail(request: HttpRequest, institution: Institution, award: uuid.UUID) -> HttpResponse:
    found = selectors.award_of(institution, award)
    context = _award_context(request, institution, found, form=StatusChangeForm())
    return render(request, "badges/award_detail.html", context)


@require_POST
@console()
def award_revoke(
    request: HttpRequest, institution: Institution, award: uuid.UUID, action: str
) -> HttpResponse:
    """Revoke, suspend or reinstate one award (``action``). Owners and editors."""
    user = _user(request)
    found = selectors.award_of(institution, award)
    if not revocation.can_change_status(user, found):
        raise PermissionDenied
    form = StatusChangeForm(request.POST)
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
            _form_errors(form, error)
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
    user = _user(request)
    found = selectors.award_of(institution, award)
    require_role(user, institution, Role.AWARDER, found.issuer)
    try:
        new = revocation.reissue_expired(actor=user, award=found)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("manage:award_detail", institution.slug, found.pk)
    except SigningUnavailable as error:
        messages.error(request, str(error))
        return redirect("manage:award_detail", institution.slug, found.pk)
    messages.success(request, _("A new credential was issued; it keeps the first award date."))
    return redirect("manage:award_detail", institution.slug, new.pk)


@console()
def award_bulk_revoke(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Revoke many awards at once: choose, see how many match, confirm. Owners and editors."""
    user = _user(request)
    achievements = [
        (str(a.pk), f"{a.issuer.name} · {_latest_name(a)}")
        for a in selectors.achievements_of(institution)
        if has_role(user, institution, Role.EDITOR, a.issuer)
    ]
    if not any(
        has_role(user, institution, Role.EDITOR, issuer)
        for issuer in issuer_selectors.issuers_of(institution)
    ):
        raise PermissionDenied
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
                awards = revocation.bulk_selection(
                    institution,
                    achievement=selectors.achievement_of(institution, uuid.UUID(chosen))
                    if chosen
                    else None,
                    awarded_from=start,
                    awarded_until=end,
                    references=references,
                )
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
                _form_errors(form, error)
                matched = None
                status = 400
    else:
        form = BulkRevokeForm(achievements=achievements)
    context = _context(request, institution, form=form, matched=matched)
    return render(request, "badges/awards_revoke.html", context, status=status)


def _latest_name(achievement: Achievement) -> str:
    versions = _versions(achievement)
    return (_latest(versions) or versions[-1]).name or achievement.slug


@require_POST
@console()
def award_resend(request: HttpRequest, institution: Institution, award: uuid.UUID) -> HttpResponse:
    """Issue #8: e-mail the learner the claim link again."""
    found = selectors.award_of(institution, award)
    try:
        notifications.resend_award_email(actor=_user(request), award=found)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("The e-mail is on its way to %(email)s.") % {"email": found.recipient_email}
        )
    return redirect("manage:awards", institution.slug)
