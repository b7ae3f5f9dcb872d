"""The staff console's micro-credential pages: list, create, edit, preview and publish."""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from achievements import diff, services
from achievements.forms import AchievementForm, NewAchievementForm
from badges import selectors
from badges.models import Achievement, AchievementVersion
from common import markdown
from frameworks.catalogue import export
from issuers import selectors as issuer_selectors
from issuers.console import apply_errors, console, console_context, request_user, uploaded
from issuers.keys import issuer_did
from issuers.models import Institution, Role
from issuers.permissions import can_edit_some_issuer, has_role


def _versions(achievement: Achievement) -> list[AchievementVersion]:
    # achievements_of prefetches the versions in number order: no query per row.
    return list(achievement.versions.all())


def _latest(versions: list[AchievementVersion]) -> AchievementVersion | None:
    return next((v for v in reversed(versions) if v.is_published), None)


def _draft(versions: list[AchievementVersion]) -> AchievementVersion | None:
    return next((v for v in versions if not v.is_published), None)


def _state(version: AchievementVersion, latest: AchievementVersion | None) -> str:
    """A version's place in the history, for the console: draft, current or previous."""
    if not version.is_published:
        return str(_("Draft"))
    if latest is not None and version.pk == latest.pk:
        return str(pgettext("version", "Current"))
    return str(pgettext("version", "Previous"))


@console()
def achievement_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    user = request_user(request)
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
    can_create = can_edit_some_issuer(user, institution, Role.EDITOR)
    context = console_context(request, institution, rows=rows, can_create=can_create)
    return render(request, "manage/achievements.html", context)


@console()
def achievement_create(request: HttpRequest, institution: Institution) -> HttpResponse:
    user = request_user(request)
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
                    image=uploaded(request, "image"),
                    **form.content(),
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Draft saved. Preview it, then publish it."))
                return redirect("manage:achievement_detail", institution.slug, achievement.pk)
    else:
        form = NewAchievementForm(issuers=issuers)
    return render(
        request,
        "manage/achievements_form.html",
        console_context(request, institution, form=form, achievement=None),
    )


@console()
def achievement_detail(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    user = request_user(request)
    found = selectors.achievement_for(user, institution, achievement, None)
    versions = _versions(found)
    draft = _draft(versions)
    latest = _latest(versions)
    rows = [
        {"version": version, "state": _state(version, latest), "changes": found_changes}
        for version, found_changes in zip(versions, diff.version_history(versions), strict=True)
    ]
    context = console_context(
        request,
        institution,
        achievement=found,
        versions=list(reversed(versions)),
        rows=list(reversed(rows)),
        shown=draft or latest or versions[-1],
        draft=draft,
        latest=_latest(versions),
        problems=services.publish_problems(draft) if draft else [],
        can_edit=has_role(user, institution, Role.EDITOR, found.issuer),
        can_award=has_role(user, institution, Role.AWARDER, found.issuer),
        award_count=selectors.awards_visible_to(user, institution)
        .filter(achievement_version__achievement=found)
        .count(),
    )
    return render(request, "manage/achievements_detail.html", context)


@console()
def achievement_edit(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    user = request_user(request)
    found = selectors.achievement_for(user, institution, achievement, Role.EDITOR)
    versions = _versions(found)
    current = _draft(versions) or versions[-1]
    if request.method == "POST":
        form = AchievementForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                version = services.save_draft(
                    actor=user,
                    achievement=found,
                    image=uploaded(request, "image"),
                    **form.content(),
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(
                    request, _("Draft of version %(n)s saved.") % {"n": version.number}
                )
                return redirect("manage:achievement_detail", institution.slug, found.pk)
    else:
        form = AchievementForm.for_version(current)
    context = console_context(request, institution, form=form, achievement=found, editing=current)
    return render(request, "manage/achievements_form.html", context)


@console()
def achievement_preview(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    found = selectors.achievement_for(request_user(request), institution, achievement, None)
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
                export.achievement_document(version, language), ensure_ascii=False, indent=2
            ),
        }
        for language in languages
    ]
    context = console_context(
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
    user = request_user(request)
    found = selectors.achievement_for(user, institution, achievement, Role.EDITOR)
    draft = _draft(_versions(found))
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
