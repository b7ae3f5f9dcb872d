"""The console's analytics page (an institution, one issuer or one micro-credential, over a
date range by day, week or month), the CSV of each of its charts, and the counting redirect
behind the LinkedIn buttons of a public badge page.

Staff see totals only, never who viewed or verified; staff of some issuers see only theirs.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from analytics import reports, selectors, services
from analytics.charts import Chart
from analytics.models import Metric, ShareTarget
from analytics.selectors import Period, Scope
from badges import selectors as badge_selectors
from badges.models import AwardStatus
from common.spreadsheets import csv_writer
from issuers import selectors as issuer_selectors
from issuers.console import console, console_context, request_user
from issuers.models import Institution
from issuers.permissions import visible_issuers
from sharing import meta

#: Periods a chart shows at most; a longer range is cut to its latest ones.
MOST = {Period.DAY: 92, Period.WEEK: 53, Period.MONTH: 120}
SHARE_TARGETS = {"add": ShareTarget.LINKEDIN_PROFILE, "post": ShareTarget.LINKEDIN_POST}
DEFAULT_SPAN = {Period.DAY: 29, Period.WEEK: 7 * 12 - 1, Period.MONTH: 365}


class FilterForm(forms.Form):
    issuer = forms.TypedChoiceField(
        label=gettext_lazy("Issuer"), required=False, coerce=int, empty_value=None
    )
    achievement = forms.TypedChoiceField(
        label=gettext_lazy("Micro-credential"),
        required=False,
        coerce=uuid.UUID,
        empty_value=None,
    )
    period = forms.ChoiceField(
        label=gettext_lazy("By"),
        required=False,
        choices=[
            (Period.DAY, gettext_lazy("Day")),
            (Period.WEEK, gettext_lazy("Week")),
            (Period.MONTH, gettext_lazy("Month")),
        ],
    )
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, data: Any, issuers: list[tuple[int, str]], achievements: list[tuple[str, str]]
    ) -> None:
        super().__init__(data)
        self.fields["issuer"].choices = [("", _("All issuers")), *issuers]  # type: ignore[attr-defined]
        self.fields["achievement"].choices = [("", _("All micro-credentials")), *achievements]  # type: ignore[attr-defined]


def _range(cleaned: dict[str, Any], period: str) -> tuple[dt.date, dt.date, bool]:
    """The range asked for (by default the latest month, 12 weeks or year), cut to the most
    periods a chart shows; and whether it was cut."""
    end = cleaned.get("end") or timezone.localdate()
    start = cleaned.get("start") or end - dt.timedelta(days=DEFAULT_SPAN[period])
    if start > end:
        start, end = end, start
    if period == Period.MONTH:  # whole months, read from the monthly rollups
        start = start.replace(day=1)
        end = (end.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    first = selectors.buckets(start, end, period)
    cut = len(first) > MOST[period]
    if cut:
        start = first[-MOST[period]]
    return start, end, cut


def _scope_and_names(
    request: HttpRequest, institution: Institution
) -> tuple[FilterForm, Scope, dict[Any, str]]:
    user = request_user(request)
    visible = visible_issuers(user, institution)
    issuers = [
        (i.pk, i.name)
        for i in issuer_selectors.issuers_of(institution).order_by("name_en")
        if visible is None or i.pk in visible
    ]
    names: dict[Any, str] = {}
    achievements: list[tuple[str, str]] = []
    for achievement in badge_selectors.achievements_of(institution):
        if visible is not None and achievement.issuer_id not in visible:
            continue
        versions = list(achievement.versions.all())
        name = versions[-1].name if versions else achievement.slug
        names[achievement.pk] = name or achievement.slug
        achievements.append(
            (str(achievement.pk), f"{names[achievement.pk]} · {achievement.issuer.name}")
        )
    form = FilterForm(request.GET, issuers, achievements)
    cleaned: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    scope = Scope(
        institution=institution,
        visible=visible,
        issuer_id=cleaned.get("issuer"),
        achievement_id=cleaned.get("achievement"),
    )
    return form, scope, names


def _csv(chart: Chart, start: dt.date, end: dt.date) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(chart.headers)
    writer.writerows(chart.rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="analytics-{chart.key}-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
    )
    return response


@console()
@require_safe
def analytics(request: HttpRequest, institution: Institution) -> HttpResponse:
    form, scope, names = _scope_and_names(request, institution)
    cleaned: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    period = cleaned.get("period") or Period.DAY
    start, end, cut = _range(cleaned, period)
    figures = selectors.figures(scope, start, end, period)
    top_rows = [
        (names.get(achievement_id, str(achievement_id)), issued, claimed)
        for achievement_id, issued, claimed in selectors.top_achievements(
            scope, start, end, monthly=period == Period.MONTH
        )
    ]
    chart_list = [
        reports.over_time(
            "awards",
            _("Issued and claimed"),
            figures,
            [Metric.ISSUED, Metric.CLAIMED, Metric.REVOKED, Metric.EXPIRED],
        ),
        reports.over_time(
            "reach",
            _("Views, verifications and shares"),
            figures,
            [Metric.VIEWED, Metric.VERIFIED, Metric.SHARED],
        ),
        reports.funnel(figures),
        reports.by_channel("verified", _("Verifications by channel"), figures, Metric.VERIFIED),
        reports.by_channel("viewed", _("Views by channel"), figures, Metric.VIEWED),
        reports.by_channel("shared", _("Shares to LinkedIn"), figures, Metric.SHARED),
        reports.top(top_rows),
        reports.over_time("pathways", _("Pathway completions"), figures, [Metric.PATHWAY]),
    ]
    wanted = request.GET.get("csv")
    if wanted:
        found = next((c for c in chart_list if c.key == wanted), None)
        if found is None:
            raise Http404
        return _csv(found, start, end)
    query = request.GET.copy()
    query.pop("csv", None)
    context = console_context(
        request,
        institution,
        form=form,
        figures=figures,
        charts=chart_list,
        start=start,
        end=end,
        cut=cut,
        query=query.urlencode(),
        reach=selectors.reach(scope),
        issuer_name=dict(form.fields["issuer"].choices).get(scope.issuer_id),  # type: ignore[attr-defined]
        achievement_name=names.get(scope.achievement_id),
    )
    return render(request, "analytics/analytics.html", context)


@require_safe
def share_linkedin(request: HttpRequest, award_id: uuid.UUID, target: str) -> HttpResponse:
    """Count a press of "Add to LinkedIn profile" or "Post on LinkedIn", then go there."""
    kind = SHARE_TARGETS.get(target)
    if kind is None:
        raise Http404
    award = badge_selectors.public_award(award_id)
    if award.status == AwardStatus.REVOKED or (
        award.status == AwardStatus.SUSPENDED and kind == ShareTarget.LINKEDIN_PROFILE
    ):
        # What the badge page no longer offers (nothing of a revoked badge, no add-to-profile
        # while suspended): an old link lands on the page, which says why, and counts nothing.
        return HttpResponseRedirect(meta.badge_page_url(award))
    services.count_share(award=award, target=kind)
    if kind == ShareTarget.LINKEDIN_PROFILE:
        return HttpResponseRedirect(meta.linkedin_add_to_profile_url(award))
    return HttpResponseRedirect(meta.linkedin_share_url(meta.badge_page_url(award)))
