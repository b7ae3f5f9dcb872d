"""The console's figures turned into charts and tables (``charts.Chart``): what each page
shows, built from ``selectors.Figures`` without another query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from analytics import charts
from analytics.charts import Chart, Series
from analytics.models import Metric, ShareTarget
from analytics.selectors import Figures, Period
from earners.models import Channel
from verification.models import OwnVerificationChannel


def period_label(day: dt.date, period: str) -> str:
    """A period as people read it, in one unambiguous format: 2026-12-04, week of 2026-11-30,
    2026-12."""
    if period == Period.MONTH:
        return f"{day:%Y-%m}"
    if period == Period.WEEK:
        return _("week of %(day)s") % {"day": f"{day:%Y-%m-%d}"}
    return f"{day:%Y-%m-%d}"


def percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else ""


def over_time(key: str, title: str, figures: Figures, metrics: list[str]) -> Chart:
    labels = dict(Metric.choices)
    periods = [period_label(p, figures.period) for p in figures.periods]
    series = [Series(str(labels[m]), figures.series.get(m, [0] * len(periods))) for m in metrics]
    chart = Chart(
        key=key,
        title=title,
        description=_("%(what)s per %(period)s from %(start)s to %(end)s: %(totals)s.")
        % {
            "what": title,
            "period": {
                Period.DAY: _("day"),
                Period.WEEK: _("week"),
                Period.MONTH: _("month"),
            }[figures.period],
            "start": f"{figures.start:%Y-%m-%d}",
            "end": f"{figures.end:%Y-%m-%d}",
            "totals": ", ".join(f"{s.label} {sum(s.values)}" for s in series),
        },
        headers=[_("Period"), *(s.label for s in series)],
        rows=[[periods[i], *(s.values[i] for s in series)] for i in range(len(periods))],
        series=series,
        categories=periods,
    )
    chart.svg = charts.lines_svg(chart, _("Nothing in this period."))
    return chart


def _bars(
    key: str, title: str, value_header: str, items: list[tuple[str, int]], notes: list[str]
) -> Chart:
    chart = Chart(
        key=key,
        title=title,
        description=_("%(what)s: %(items)s.")
        % {
            "what": title,
            "items": ", ".join(f"{label} {n}" for label, n in items) or _("none"),
        },
        headers=[_("Name"), value_header, *([pgettext("analytics", "Share")] if notes else [])],
        rows=[[label, n, *([notes[i]] if notes else [])] for i, (label, n) in enumerate(items)],
        series=[Series(value_header, [n for _label, n in items])],
        categories=[label for label, _n in items],
        kind="bars",
    )
    chart.svg = charts.bars_svg(chart, _("Nothing in this period."), notes)
    return chart


def funnel(figures: Figures) -> Chart:
    emailed = figures.total(Metric.EMAILED)
    steps = [
        (str(Metric.EMAILED.label), emailed),
        (str(Metric.OPENED.label), figures.total(Metric.OPENED)),
        (str(Metric.CLAIMED.label), figures.total(Metric.CLAIMED)),
    ]
    notes = [percent(n, emailed) for _label, n in steps]
    return _bars("funnel", _("Claim funnel"), pgettext("analytics", "Awards"), steps, notes)


def by_channel(key: str, title: str, figures: Figures, metric: str) -> Chart:
    labels: dict[str, Any] = {
        **dict(Channel.choices),
        **dict(OwnVerificationChannel.choices),
        **dict(ShareTarget.choices),
    }
    counts = figures.channels.get(metric, {})
    items = sorted(
        ((str(labels.get(channel, channel)), n) for channel, n in counts.items() if n),
        key=lambda item: (-item[1], item[0]),
    )
    total = sum(n for _label, n in items)
    return _bars(key, title, _("Count"), items, [percent(n, total) for _label, n in items])


def top(rows: list[tuple[str, int, int]]) -> Chart:
    """``rows``: (name, issued, claimed) of the micro-credentials awarded most."""
    items = [(name, issued) for name, issued, _claimed in rows]
    notes = [
        _("%(rate)s claimed") % {"rate": percent(claimed, issued)}
        for _name, issued, claimed in rows
    ]
    return _bars("top", _("Top micro-credentials"), str(Metric.ISSUED.label), items, notes)
