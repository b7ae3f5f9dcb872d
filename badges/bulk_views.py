"""Console pages of bulk issuing (issue #8): upload, dry run, issue with a progress bar,
per-row status, result file, cancel and retry. Every URL is in the tenant-isolation test."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from badges import bulk, bulk_services, selectors, services
from badges.models import BatchState, BulkBatch, DuplicateHandling, Language
from issuers.keys import SigningUnavailable
from issuers.models import Institution, Role
from issuers.permissions import has_role, require_role, role_in
from issuers.views import console

ROWS_PER_PAGE = 500
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class BulkUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel file"),
        help_text=gettext_lazy("UTF-8 or GBK CSV, or .xlsx; at most 10,000 rows."),
    )
    duplicates = forms.ChoiceField(
        label=gettext_lazy("Learners who already have this badge"),
        choices=DuplicateHandling.choices,
        initial=DuplicateHandling.SKIP,
        widget=forms.RadioSelect,
    )
    notify = forms.BooleanField(
        label=gettext_lazy("E-mail each learner a link to claim the badge"),
        required=False,
        initial=True,
    )


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # console() signs in first; this narrows the type
        raise PermissionDenied
    return request.user


def _batch(institution: Institution, batch_id: uuid.UUID) -> BulkBatch:
    found = (
        BulkBatch.objects.select_related("issuer", "achievement_version__achievement", "created_by")
        .filter(pk=batch_id, issuer__institution=institution)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _context(request: HttpRequest, institution: Institution, **extra: Any) -> dict[str, Any]:
    user = _user(request)
    return {
        "institution": institution,
        "my_role": role_in(user, institution),
        "is_owner": has_role(user, institution, Role.OWNER),
        **extra,
    }


@console()
def bulk_upload(
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
    form = BulkUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if isinstance(upload, UploadedFile) and (upload.size or 0) > MAX_UPLOAD_BYTES:
                form.add_error("file", _("The file is larger than 20 MB."))
            else:
                try:
                    batch = bulk_services.create_batch(
                        actor=user,
                        version=version,
                        file_name=str(upload.name or ""),
                        data=bytes(upload.read()),
                        duplicates=form.cleaned_data["duplicates"],
                        notify=form.cleaned_data["notify"],
                    )
                except ValidationError as error:
                    form.add_error("file", error.messages)
                else:
                    return redirect("manage:bulk_batch", institution.slug, batch.pk)
    context = _context(
        request,
        institution,
        form=form,
        achievement=found,
        version=version,
        batches=BulkBatch.objects.filter(achievement_version__achievement=found)[:10],
    )
    return render(request, "badges/bulk_upload.html", context, status=status)


@console()
def bulk_template(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    found = selectors.achievement_of(institution, achievement)
    language = request.GET.get("lang") or get_language() or "en"
    zh = language.lower().startswith("zh")
    response = HttpResponse(bulk.template_csv(language), content_type="text/csv; charset=utf-8")
    name = f"{found.slug}-{'zh' if zh else 'en'}-template.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _rows_context(request: HttpRequest, batch: BulkBatch) -> dict[str, Any]:
    version = batch.achievement_version
    rows = batch.rows.select_related("award").order_by("number")
    if request.GET.get("show") == "problems":
        rows = rows.exclude(errors=[]) | rows.filter(state__in=["failed"])
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    names: dict[str, str] = {
        str(code): version.text("name", code) for code in (Language.EN, Language.ZH_HANS)
    }
    shown = []
    for row in page.object_list:
        expiry = row.valid_until
        shown.append(
            {
                "row": row,
                "badge_name": names.get(row.language, names[Language.EN]),
                "valid_until": expiry,
                "default_validity": version.validity_days if expiry is None else None,
                "errors": {e["column"]: e["message"] for e in row.errors},
            }
        )
    return {
        "batch": batch,
        "version": version,
        "page": page,
        "shown": shown,
        "progress": bulk_services.progress(batch),
        "is_running": batch.state == BatchState.RUNNING,
        "column_labels": bulk.COLUMN_LABELS,
        "show_credits": batch.rows.filter(credits_earned__isnull=False).exists(),
    }


@console()
def bulk_batch(request: HttpRequest, institution: Institution, batch: uuid.UUID) -> HttpResponse:
    found = _batch(institution, batch)
    user = _user(request)
    context = _context(
        request,
        institution,
        can_award=has_role(user, institution, Role.AWARDER, found.issuer),
        **_rows_context(request, found),
    )
    return render(request, "badges/bulk_batch.html", context)


@console()
def bulk_progress(request: HttpRequest, institution: Institution, batch: uuid.UUID) -> HttpResponse:
    found = _batch(institution, batch)
    user = _user(request)
    context = _context(
        request,
        institution,
        can_award=has_role(user, institution, Role.AWARDER, found.issuer),
        **_rows_context(request, found),
    )
    return render(request, "badges/bulk_progress.html", context)


def _act(request: HttpRequest, institution: Institution, batch: uuid.UUID, action: str) -> Any:
    user = _user(request)
    found = _batch(institution, batch)
    try:
        if action == "start":
            bulk_services.start_batch(actor=user, batch=found)
            messages.success(request, _("Issuing has started."))
        elif action == "cancel":
            bulk_services.cancel_batch(actor=user, batch=found)
            messages.success(request, _("Issuing was cancelled; rows not yet issued stay so."))
        else:
            count = bulk_services.retry_failed(actor=user, batch=found)
            messages.success(
                request, _("%(count)s failed rows are issued again.") % {"count": count}
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except SigningUnavailable as error:
        messages.error(request, str(error))
    return redirect("manage:bulk_batch", institution.slug, found.pk)


@require_POST
@console()
def bulk_start(request: HttpRequest, institution: Institution, batch: uuid.UUID) -> HttpResponse:
    response: HttpResponse = _act(request, institution, batch, "start")
    return response


@require_POST
@console()
def bulk_cancel(request: HttpRequest, institution: Institution, batch: uuid.UUID) -> HttpResponse:
    response: HttpResponse = _act(request, institution, batch, "cancel")
    return response


@require_POST
@console()
def bulk_retry(request: HttpRequest, institution: Institution, batch: uuid.UUID) -> HttpResponse:
    response: HttpResponse = _act(request, institution, batch, "retry")
    return response


@console()
def bulk_results(request: HttpRequest, institution: Institution, batch: uuid.UUID) -> HttpResponse:
    found = _batch(institution, batch)
    response = HttpResponse(bulk_services.result_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="results-{found.pk}.csv"'
    return response
