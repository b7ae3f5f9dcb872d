"""Console pages of bulk issuing: upload, dry run, issue with a progress bar, per-row status,
result file, cancel and retry. Every URL is in the tenant-isolation test."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from awarding.bulk import parse, selectors, services
from awarding.bulk.forms import BulkUploadForm
from badges import selectors as badge_selectors
from badges.models import BatchState, BulkBatch, DuplicateHandling, Language
from frameworks.catalogue import policies
from issuers.console import console, console_context, request_user
from issuers.keys import SigningUnavailable
from issuers.models import Institution, Role
from issuers.permissions import has_role

ROWS_PER_PAGE = 500

#: A row's language as its speakers write it (the dry run shows it beside the badge's name).
LANGUAGE_LABELS: dict[str, str] = {Language.EN: "English", Language.ZH_HANS: "中文"}


@console()
def bulk_upload(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    user = request_user(request)
    found = badge_selectors.achievement_for(user, institution, achievement, Role.AWARDER)
    version = badge_selectors.latest_published(found)
    if version is None:
        messages.error(request, _("Publish this micro-credential before awarding it."))
        return redirect("manage:achievement_detail", institution.slug, found.pk)
    status = 200
    unmet = policies.unmet_for(version)  # shown before a file is chosen; nothing can be issued
    form = BulkUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        status = 400
        if unmet:
            form.add_error(
                None, _("This micro-credential does not meet your institution's policies.")
            )
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if isinstance(upload, UploadedFile):
                    parse.check_upload_size(upload.size or 0)  # before reading it
                batch = services.create_batch(
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
    context = console_context(
        request,
        institution,
        form=form,
        achievement=found,
        version=version,
        batches=selectors.recent_batches(found),
        unmet=unmet,
    )
    return render(request, "badges/bulk_upload.html", context, status=status)


@console()
def bulk_template(
    request: HttpRequest, institution: Institution, achievement: uuid.UUID
) -> HttpResponse:
    found = badge_selectors.achievement_for(request_user(request), institution, achievement, None)
    language = request.GET.get("lang") or get_language() or "en"
    zh = language.lower().startswith("zh")
    response = HttpResponse(parse.template_csv(language), content_type="text/csv; charset=utf-8")
    name = f"{found.slug}-{'zh' if zh else 'en'}-template.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _credits_text(value: Decimal | None) -> str:
    """Credits as people write them: ``8.00`` → "8", ``7.50`` → "7.5"."""
    return "" if value is None else policies.format_decimal(value)


def _evidence_link(url: str, columns: set[str]) -> str:
    """The evidence URL to render as a link, or "": only an accepted http(s) URL is ever a
    link (a refused ``javascript:`` one is shown as inert text)."""
    if "evidence_url" in columns or not url.lower().startswith(("https://", "http://")):
        return ""
    return url


def _rows_context(request: HttpRequest, batch: BulkBatch) -> dict[str, Any]:
    version = batch.achievement_version
    draft = batch.state == BatchState.DRAFT
    rows = batch.rows.select_related("award").order_by("number")
    if draft and batch.duplicates != DuplicateHandling.ALLOW:
        holds = ExpressionWrapper(selectors.holds_badge(batch), output_field=BooleanField())
        rows = rows.annotate(holds_badge=holds)
    if request.GET.get("show") == "problems":
        rows = rows.exclude(errors=[]) | rows.filter(state__in=["failed"])
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    names: dict[str, str] = {
        str(code): version.text("name", code) for code in (Language.EN, Language.ZH_HANS)
    }
    shown = []
    for row in page.object_list:
        expiry = row.valid_until
        columns = {e["column"] for e in row.errors}
        shown.append(
            {
                "row": row,
                "badge_name": names.get(row.language, names[Language.EN]),
                "language": LANGUAGE_LABELS.get(row.language, ""),
                "credits": _credits_text(row.credits_earned),
                "evidence_link": _evidence_link(row.evidence_url, columns),
                "valid_until": expiry,
                "default_validity": version.validity_days if expiry is None else None,
                "errors": [
                    (parse.COLUMN_LABELS.get(e["column"], ""), e["message"]) for e in row.errors
                ],
                "holds_badge": bool(getattr(row, "holds_badge", False)),
                "example_address": bool(row.email) and parse.is_example_address(row.email),
            }
        )
    counts = selectors.dry_run_counts(batch) if draft else {}
    # Policies may have changed since the file was checked: a draft shows today's block.
    unmet = policies.unmet_for(version) if draft else []
    skipped = counts.get("holding", 0) if batch.duplicates == DuplicateHandling.SKIP else 0
    return {
        "batch": batch,
        "version": version,
        "page": page,
        "shown": shown,
        "progress": None if draft else selectors.progress(batch),
        "is_running": batch.state == BatchState.RUNNING,
        "will_skip": skipped,
        "will_issue": batch.total_rows - skipped,
        "will_replace": counts.get("holding", 0)
        if batch.duplicates == DuplicateHandling.REPLACE
        else 0,
        "example_rows": counts.get("example", 0),
        "unmet": unmet,
    }


def _batch_page(
    request: HttpRequest, institution: Institution, batch: uuid.UUID, template: str
) -> HttpResponse:
    user = request_user(request)
    found = selectors.batch_for(user, institution, batch, None)
    context = console_context(
        request,
        institution,
        can_award=has_role(user, institution, Role.AWARDER, found.issuer),
        **_rows_context(request, found),
    )
    return render(request, template, context)


@console()
def bulk_batch(request: HttpRequest, institution: Institution, batch: uuid.UUID) -> HttpResponse:
    """An upload: its dry run, then its rows' progress and outcomes."""
    return _batch_page(request, institution, batch, "badges/bulk_batch.html")


@console()
def bulk_progress(request: HttpRequest, institution: Institution, batch: uuid.UUID) -> HttpResponse:
    """The progress table alone, which the batch page polls (htmx) while issuing runs."""
    return _batch_page(request, institution, batch, "badges/bulk_progress.html")


def _act(request: HttpRequest, institution: Institution, batch: uuid.UUID, action: str) -> Any:
    user = request_user(request)
    found = selectors.batch_for(user, institution, batch, None)
    try:
        if action == "start":
            services.start_batch(actor=user, batch=found)
            messages.success(request, _("Issuing has started."))
        elif action == "cancel":
            services.cancel_batch(actor=user, batch=found)
            messages.success(request, _("Issuing was cancelled; rows not yet issued stay so."))
        else:
            count = services.retry_failed(actor=user, batch=found)
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
    found = selectors.batch_for(request_user(request), institution, batch, None)
    response = HttpResponse(selectors.result_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="results-{found.pk}.csv"'
    return response
