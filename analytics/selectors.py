"""Reads of the analytics app: sums of the daily rollups over a scope and a date range.

A scope is an institution, narrowed to the issuers a person may read (``visible``), and
optionally to one issuer or one micro-credential. Every read is a fixed number of queries
over ``DailyCount`` (a row per day, micro-credential, metric and channel), whatever the
number of awards.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Sum

from analytics.models import DailyCount, FoldCursor, Metric, MonthlyCount
from analytics.services import CURSOR
from issuers.models import Institution


class Period:
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    ALL = (DAY, WEEK, MONTH)


@dataclass(frozen=True)
class Scope:
    institution: Institution
    visible: set[int] | None  # issuer ids a person may read; None: all
    issuer_id: int | None = None
    achievement_id: Any = None

    def rows(self, monthly: bool = False) -> QuerySet[Any]:
        model: type[DailyCount | MonthlyCount] = MonthlyCount if monthly else DailyCount
        found: QuerySet[Any] = model.objects.filter(institution=self.institution)
        if self.visible is not None:
            found = found.filter(issuer_id__in=self.visible)
        if self.issuer_id is not None:
            found = found.filter(issuer_id=self.issuer_id)
        if self.achievement_id is not None:
            found = found.filter(achievement_id=self.achievement_id)
        return found


def bucket(day: dt.date, period: str) -> dt.date:
    """The first day of the day, week (Monday) or month ``day`` falls in."""
    if period == Period.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if period == Period.MONTH:
        return day.replace(day=1)
    return day


def buckets(start: dt.date, end: dt.date, period: str) -> list[dt.date]:
    found: list[dt.date] = []
    day = bucket(start, period)
    while day <= end:
        found.append(day)
        if period == Period.MONTH:
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        else:
            day += dt.timedelta(days=7 if period == Period.WEEK else 1)
    return found


@dataclass
class Figures:
    """Totals over the range, by metric and by (metric, channel), and per period."""

    start: dt.date
    end: dt.date
    period: str
    totals: dict[str, int] = field(default_factory=dict)
    channels: dict[str, dict[str, int]] = field(default_factory=dict)
    periods: list[dt.date] = field(default_factory=list)
    series: dict[str, list[int]] = field(default_factory=dict)

    def total(self, metric: str) -> int:
        return self.totals.get(metric, 0)

    @property
    def claim_percent(self) -> str:
        """Claimed of issued in the range, as "75%" ("" when nothing was issued)."""
        issued = self.total(Metric.ISSUED)
        return f"{self.total(Metric.CLAIMED) / issued:.0%}" if issued else ""


def figures(scope: Scope, start: dt.date, end: dt.date, period: str) -> Figures:
    """Totals and series over ``[start, end]``: one query (of the monthly rollups by month,
    when ``start`` is a month's first day: the caller gives whole months)."""
    rows = (
        scope.rows(monthly=period == Period.MONTH and start.day == 1)
        .filter(day__gte=start, day__lte=end)
        .order_by()
        .values_list("day", "metric", "channel")
        .annotate(total=Sum("n"))
    )
    found = Figures(start=start, end=end, period=period, periods=buckets(start, end, period))
    index = {day: i for i, day in enumerate(found.periods)}
    totals: dict[str, int] = defaultdict(int)
    channels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    series: dict[str, list[int]] = {m: [0] * len(found.periods) for m in Metric.values}
    for day, metric, channel, n in rows:
        totals[metric] += n
        if channel:
            channels[metric][channel] += n
        series[metric][index[bucket(day, period)]] += n
    found.totals = dict(totals)
    found.channels = {metric: dict(by) for metric, by in channels.items()}
    found.series = series
    return found


def all_time(scope: Scope) -> dict[str, int]:
    """Totals since the beginning, by metric: one query."""
    rows = scope.rows(monthly=True).order_by().values_list("metric").annotate(total=Sum("n"))
    return dict(rows)


def top_achievements(
    scope: Scope, start: dt.date, end: dt.date, limit: int = 10, *, monthly: bool = False
) -> list[tuple[Any, int, int]]:
    """The micro-credentials awarded most in the range: (id, issued, claimed), one query."""
    rows = (
        scope.rows(monthly=monthly and start.day == 1)
        .filter(day__gte=start, day__lte=end, metric__in=[Metric.ISSUED, Metric.CLAIMED])
        .order_by()
        .values("achievement_id")
        .annotate(
            issued=Sum("n", filter=Q(metric=Metric.ISSUED)),
            claimed=Sum("n", filter=Q(metric=Metric.CLAIMED)),
        )
        .order_by("-issued", "achievement_id")[:limit]
    )
    return [(r["achievement_id"], r["issued"] or 0, r["claimed"] or 0) for r in rows if r["issued"]]


def reach(scope: Scope) -> dt.datetime | None:
    """Up to when the rollups have counted."""
    found = FoldCursor.objects.filter(name=CURSOR).values_list("at", flat=True).first()
    return found
