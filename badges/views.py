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
from django.views.decorators.http import require_POST

from accounts.models import User
from badges import credentials, markdown, selectors, services
from badges.forms import AchievementForm, AwardForm, NewAchievementForm
from badges.models import Achievement, AchievementVersion
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
    if request.method == "POST":
        form = AwardForm(request.POST, languages=version.languages())
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
        form = AwardForm(languages=version.languages())
    context = _context(request, institution, form=form, achievement=found, version=version)
    return render(request, "badges/award_form.html", context, status=status)


@console()
def award_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    awards = selectors.awards_of(institution)[:200]
    return render(request, "badges/awards.html", _context(request, institution, awards=awards))
