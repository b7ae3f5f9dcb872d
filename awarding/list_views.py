"""The console's awards list at any volume: search, filters, sort and keyset pages
(``awarding.awards_list``), bulk actions on ticked rows or on every award matching the filter
(always through a confirmation page with the exact number and a sample of whose, refused if
the number changed since), and the filter's export as CSV or XLSX (``awarding.export``)."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from accounts.models import User
from awarding import awards_list, export, rules
from awarding.forms import AwardFilterForm, BulkActionForm
from awarding.revocation import services as revocation
from badges import selectors
from badges.models import Award
from badges.notifications import selectors as notification_selectors
from badges.notifications import services as notification_services
from badges.state import award_state
from issuers import selectors as issuer_selectors
from issuers.console import apply_errors, console, console_context, request_user
from issuers.models import Institution, Role
from issuers.permissions import can_edit_some_issuer, has_role, visible_issuers

#: A bulk action acts on at most this many ticked rows (more: "all matching the filter").
BULK_SELECTED_MAX = 1000
#: E-mails sent again in one bulk action, at most.
BULK_RESEND_MAX = 1000
#: How many of the awards a bulk action would change its confirmation page lists.
BULK_SAMPLE = 10


def _filter_options(user: User, institution: Institution) -> dict[str, list[tuple[str, str]]]:
    """The choices of the awards list's filters: what ``user`` may read."""
    visible = visible_issuers(user, institution)
    issuers = [
        issuer
        for issuer in issuer_selectors.issuers_of(institution).order_by("name_en")
        if visible is None or issuer.pk in visible
    ]
    achievements = [
        (str(a.pk), f"{a.issuer.name} · {awards_list.latest_name(a)}")
        for a in selectors.achievements_of(institution)
        if visible is None or a.issuer_id in visible
    ]
    batches = [
        (
            str(batch.pk),
            f"{batch.file_name or _('Upload')} · {timezone.localtime(batch.created_at):%Y-%m-%d}",
        )
        for batch in awards_list.recent_batches(user, institution)
    ]
    return {
        "achievements": achievements,
        "issuers": [(str(issuer.pk), issuer.name) for issuer in issuers],
        "batches": batches,
    }


def _award_filter(form: AwardFilterForm) -> awards_list.AwardFilter:
    """The filter the awards list's form asks for; a field that did not validate is left out."""
    form.is_valid()
    data = form.cleaned_data

    def clean(name: str) -> Any:
        return None if name in form.errors else data.get(name) or None

    start, end = clean("awarded_from"), clean("awarded_until")
    issuer = clean("issuer")
    achievement = clean("achievement")
    batch = clean("batch")
    return awards_list.AwardFilter(
        search=clean("q") or "",
        achievement=uuid.UUID(achievement) if achievement else None,
        issuer=int(issuer) if issuer else None,
        state=clean("state") or "",
        awarded_from=rules.start_of_day(start) if start else None,
        awarded_until=rules.end_of_day(end) if end else None,
        batch=uuid.UUID(batch) if batch else None,
        sort=clean("sort") or "newest",
    )


def _filter_query(form: AwardFilterForm) -> str:
    """The list's filter as a query string (without a cursor), for page links and exports."""
    names = ("q", "achievement", "issuer", "state", "awarded_from", "awarded_until", "batch")
    pairs = [(name, form.data.get(name, "")) for name in (*names, "sort")]
    return urlencode([(name, value) for name, value in pairs if value])


def _filter_form(
    request: HttpRequest, institution: Institution, data: Any
) -> tuple[AwardFilterForm, awards_list.AwardFilter]:
    options = _filter_options(request_user(request), institution)
    form = AwardFilterForm(data, **options)
    return form, _award_filter(form)


def _rows(awards: list[Award], institution: Institution) -> list[dict[str, Any]]:
    now = timezone.now()
    # Each row's links from one reversed pattern (a reverse per row is most of a page's cost).
    blank = "00000000-0000-0000-0000-000000000000"
    detail = reverse("manage:award_detail", args=[institution.slug, blank])
    resend = reverse("manage:award_resend", args=[institution.slug, blank])
    select = _("Select the badge of %(name)s")
    return [
        {
            "award": award,
            "detail_url": detail.replace(blank, str(award.pk)),
            "resend_url": resend.replace(blank, str(award.pk)),
            "select_label": select % {"name": award.recipient_label},
            "state": award_state(award, now=now),
            "superseded": getattr(award, "is_reissued", False)
            or getattr(award, "is_replaced", False),
            "delivery": notification_selectors.delivery(award),
        }
        for award in awards
    ]


@console()
def award_list(request: HttpRequest, institution: Institution) -> HttpResponse:
    """Every award of the institution the person may read: searched, filtered, sorted and
    paged by a cursor (``after``/``before``), with a capped count and bulk actions."""
    user = request_user(request)
    form, filters = _filter_form(request, institution, request.GET)
    awards = awards_list.matching(user, institution, filters)
    page = awards_list.page_of(
        awards_list.with_row_facts(awards),
        filters.sort,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    total, more = awards_list.count_capped(awards)
    query = _filter_query(form)
    context = console_context(
        request,
        institution,
        form=form,
        filters=filters,
        page=page,
        rows=_rows(page.rows, institution),
        total=total,
        more=more,
        query=query,
        filter_fields=[form[name] for name in form.fields],
        can_revoke=can_edit_some_issuer(user, institution, Role.EDITOR),
        can_resend=can_edit_some_issuer(user, institution, Role.AWARDER),
    )
    return render(request, "badges/awards.html", context)


def _bulk_awards(
    request: HttpRequest, institution: Institution, action: str, filters: awards_list.AwardFilter
) -> QuerySet[Award]:
    """The awards a bulk action on the awards list acts on: the ticked rows, or every award
    matching the list's filter; only of issuers the person may act for, only those the
    action changes."""
    user = request_user(request)
    minimum = Role.AWARDER if action == "resend" else Role.EDITOR
    allowed = [
        issuer.pk
        for issuer in issuer_selectors.issuers_of(institution)
        if has_role(user, institution, minimum, issuer)
    ]
    if request.POST.get("scope") == "all":
        awards = awards_list.matching(user, institution, filters)
    else:
        chosen = []
        for value in request.POST.getlist("selected")[: BULK_SELECTED_MAX + 1]:
            try:
                chosen.append(uuid.UUID(value))
            except ValueError:
                continue
        awards = awards_list.matching(user, institution, awards_list.AwardFilter()).filter(
            pk__in=chosen[:BULK_SELECTED_MAX]
        )
    return awards_list.applicable(awards.filter(issuer_id__in=allowed), action)


def _apply_bulk(
    user: User, action: str, awards: QuerySet[Award], form: BulkActionForm, expected: int
) -> int:
    """Carry out ``action`` on ``awards``; raises ``CountChanged`` if they are no longer
    ``expected`` in number, ``ValidationError`` for a missing reason."""
    reason = form.cleaned_data["reason"] or ""
    notify = form.cleaned_data["notify_earner"]
    if action == "revoke":
        result = revocation.bulk_revoke(
            actor=user,
            awards=awards,
            reason=reason,
            notify_earner=notify,
            via="console",
            expected=expected,
        )
        return result.revoked
    if action in ("suspend", "reinstate"):
        return revocation.bulk_change_status(
            actor=user,
            awards=awards,
            action=action,
            reason=reason,
            notify_earner=notify,
            via="console",
            expected=expected,
        )
    chosen = list(awards.select_related("issuer__institution")[: BULK_RESEND_MAX + 1])
    if len(chosen) != expected:
        raise revocation.CountChanged(len(chosen))
    if len(chosen) > BULK_RESEND_MAX:
        raise ValidationError(
            _("At most %(n)s e-mails can be sent again at once; narrow the selection.")
            % {"n": BULK_RESEND_MAX}
        )
    for award in chosen:
        notification_services.resend_award_email(actor=user, award=award)
    return len(chosen)


_BULK_LABELS = {
    "revoke": lambda: _("Revoke"),
    "suspend": lambda: _("Suspend"),
    "reinstate": lambda: _("Reinstate"),
    "resend": lambda: _("Resend e-mail"),
}
_BULK_DONE = {
    "revoke": lambda n: ngettext("%(n)s badge revoked.", "%(n)s badges revoked.", n),
    "suspend": lambda n: ngettext("%(n)s badge suspended.", "%(n)s badges suspended.", n),
    "reinstate": lambda n: ngettext("%(n)s badge reinstated.", "%(n)s badges reinstated.", n),
    "resend": lambda n: ngettext(
        "%(n)s e-mail is on its way.", "%(n)s e-mails are on their way.", n
    ),
}


@require_POST
@console()
def awards_bulk(request: HttpRequest, institution: Institution) -> HttpResponse:
    """A bulk action from the awards list (revoke, suspend, reinstate, e-mail again) on the
    ticked rows or on all awards matching the filter: first a confirmation page with the exact
    number and a sample of who, then, confirmed, the action, refused if the number changed."""
    user = request_user(request)
    action = request.POST.get("action", "")
    if action not in BulkActionForm.ACTIONS:
        messages.error(request, _("Choose what to do with the badges."))
        return redirect("manage:awards", institution.slug)
    minimum = Role.AWARDER if action == "resend" else Role.EDITOR
    if not can_edit_some_issuer(user, institution, minimum):
        raise PermissionDenied
    filter_form, filters = _filter_form(request, institution, request.POST)
    awards = _bulk_awards(request, institution, action, filters)
    matched = awards.count()
    form = BulkActionForm(request.POST if "confirm" in request.POST else None)
    status = 200
    changed_from: int | None = None
    if "confirm" in request.POST and form.is_valid():
        expected = form.cleaned_data["expected"]
        try:
            if expected != matched:
                raise revocation.CountChanged(matched)
            done = _apply_bulk(user, action, awards, form, expected)
        except revocation.CountChanged as changed:
            changed_from, matched = expected, changed.found
            status = 409
        except ValidationError as error:
            apply_errors(form, error)
            status = 400
        else:
            messages.success(request, _BULK_DONE[action](done) % {"n": done})
            query = _filter_query(filter_form)
            return redirect(reverse("manage:awards", args=[institution.slug]) + f"?{query}")
    sample = awards_list.ordered(awards_list.with_row_facts(awards), filters.sort)[:BULK_SAMPLE]
    context = console_context(
        request,
        institution,
        action=action,
        action_label=_BULK_LABELS[action](),
        form=form,
        matched=matched,
        changed_from=changed_from,
        sample=_rows(list(sample), institution),
        scope=request.POST.get("scope", "selected"),
        selected=request.POST.getlist("selected")[:BULK_SELECTED_MAX],
        filter_fields=[filter_form[name] for name in filter_form.fields],
        query=_filter_query(filter_form),
        needs_reason=action in ("revoke", "suspend"),
    )
    return render(request, "badges/awards_bulk_confirm.html", context, status=status)


@require_safe
@console()
def awards_export(request: HttpRequest, institution: Institution, fmt: str) -> HttpResponse:
    """The awards list's current filter as a CSV (streamed) or XLSX file."""
    user = request_user(request)
    _form, filters = _filter_form(request, institution, request.GET)
    awards = awards_list.matching(user, institution, filters)
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    name = f"awards-{institution.slug}-{stamp}.{fmt}"
    if fmt == "csv":
        response: Any = StreamingHttpResponse(
            export.csv_chunks(export.rows(awards, filters.sort)),
            content_type="text/csv; charset=utf-8",
        )
    else:
        if awards_list.count_capped(awards, export.XLSX_MAX)[1]:
            messages.error(
                request,
                _("More than %(n)s badges match: narrow the filter, or download them as CSV.")
                % {"n": f"{export.XLSX_MAX:,}"},
            )
            return redirect(
                reverse("manage:awards", args=[institution.slug]) + "?" + request.GET.urlencode()
            )
        response = FileResponse(
            export.xlsx_file(export.rows(awards, filters.sort)),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return cast(HttpResponse, response)  # streamed: the console's views are typed as HttpResponse
