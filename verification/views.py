"""The public verify page: paste a URL or JSON, drop an image, or follow ``/verify?url=…``.

Works as a plain form (no JavaScript); with htmx the result replaces the result region only.
Rate limited per client (429 with ``Retry-After``); the recipient check has its own, tighter
limit. The last report is kept for 30 minutes under a random token so that "save a receipt"
signs exactly what the reader saw.
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from common.http import json_type
from verification import pipeline, ratelimit, services
from verification.extract import UPLOAD_MAX_BYTES
from verification.models import OwnVerificationChannel, Receipt
from verification.report import HEADLINES, Check, Report, Verdict, when

REPORT_TTL = 30 * 60


def _remember(report: Report) -> str:
    token = secrets.token_urlsafe(16)
    cache.set(
        f"insignia:report:{token}",
        {"report": report.as_json(), "digest": services.credential_digest(report.credential)},
        REPORT_TTL,
    )
    return token


def _too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(
        request,
        "verification/too_many.html",
        {"retry_after": retry_after},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def _request_from(request: HttpRequest) -> pipeline.VerifyRequest | str | None:
    """The verification asked for, an error message, or ``None`` for an empty form."""
    if request.method == "GET":
        url = request.GET.get("url", "").strip()
        return pipeline.VerifyRequest(url=url, email=request.GET.get("email", "")) if url else None
    email = request.POST.get("email", "")
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size is not None and upload.size > UPLOAD_MAX_BYTES:
            return _("The file is larger than 5 MiB.")
        return pipeline.VerifyRequest(
            upload=upload.read(UPLOAD_MAX_BYTES + 1), filename=upload.name or "", email=email
        )
    text = request.POST.get("text", "").strip()
    url = request.POST.get("url", "").strip()
    if url:
        return pipeline.VerifyRequest(url=url, email=email)
    if text:
        return pipeline.VerifyRequest(text=text, email=email)
    return _("Paste a badge link, its JSON, or choose a badge image.")


def _channel(asked: pipeline.VerifyRequest) -> str:
    if asked.upload is not None:
        return OwnVerificationChannel.PAGE_IMAGE
    return OwnVerificationChannel.PAGE_URL if asked.url else OwnVerificationChannel.PAGE_JSON


@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    asked = _request_from(request)
    context: dict[str, Any] = {
        "url": request.GET.get("url", "")
        if request.method == "GET"
        else request.POST.get("url", ""),
        "text": request.POST.get("text", "") if request.method == "POST" else "",
        "email": request.POST.get("email", "") or request.GET.get("email", ""),
    }
    status = 200
    if isinstance(asked, str):
        context["form_error"] = asked
        status = 400
    elif asked is not None:
        try:
            report = ratelimit.verify_within_limits(request, asked)
        except ratelimit.Limited as limited:
            return _too_many(request, limited.retry_after)
        context["report"] = report
        context["token"] = _remember(report)
        services.count_own_verification(report, _channel(asked))
        if report.verdict is Verdict.BAD_INPUT:
            status = 422
    partial = request.headers.get("HX-Request") == "true" and request.method == "POST"
    # htmx swaps only 2xx answers, so the partial always comes with 200.
    template = "verification/_result.html" if partial else "verify.html"
    return render(request, template, context, status=200 if partial else status)


@require_POST
def receipt_create(request: HttpRequest) -> HttpResponse:
    """Sign and store a receipt of a report this client was just shown."""
    token = request.POST.get("token", "")
    saved = cache.get(f"insignia:report:{token}") if token else None
    if saved is None:
        return render(request, "verification/receipt_expired.html", status=410)
    retry = ratelimit.hit("receipt", ratelimit.client_key(request), limit=20)
    if retry is not None:
        return _too_many(request, retry)
    receipt = services.create_receipt(report_json=saved["report"], digest=saved["digest"])
    cache.delete(f"insignia:report:{token}")
    return redirect("verification_receipt", receipt_id=receipt.id)


@require_safe
def receipt(request: HttpRequest, receipt_id: uuid.UUID, as_json: bool = False) -> HttpResponse:
    """A receipt's permalink: a page for people, the signed JSON for machines."""
    found = get_object_or_404(Receipt.objects.select_related("key"), pk=receipt_id)
    media = "application/json" if as_json else json_type(request)
    if media is not None:
        body = {"receipt": found.document, "jws": found.jws}
        return JsonResponse(body, json_dumps_params={"ensure_ascii": False, "indent": 2})
    try:
        headline = str(HEADLINES[Verdict(found.verdict)])
    except ValueError:
        headline = found.verdict
    document = found.document
    context = {
        "receipt": found,
        "headline": headline,
        "document": document,
        "checks": [Check.from_receipt(c) for c in document.get("checks", [])],
        "checked_at": when(document.get("checked_at")),
        "permalink": document.get("id") or request.build_absolute_uri(),
        "signed_with": f"{document.get('verifier', '')}#{found.key.key_id}",
        "document_text": json.dumps(document, ensure_ascii=False, indent=2),
    }
    return render(request, "verification/receipt.html", context)


@require_safe
def platform_did(request: HttpRequest) -> HttpResponse:
    """``did:web:<host>``: the platform's receipt keys (``/.well-known/did.json``)."""
    document = services.did_document()
    if not document.get("verificationMethod"):
        raise Http404
    response = JsonResponse(document, json_dumps_params={"indent": 2})
    response["Access-Control-Allow-Origin"] = "*"
    return response
