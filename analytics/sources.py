"""Where each metric comes from: one grouped ``SELECT`` per source over a window of rows.

Every source yields rows of (day, institution, issuer, micro-credential, metric, channel,
count), the columns of ``DailyCount``; ``services`` wraps each in ``INSERT … SELECT``. A source
is read either by time (rows whose timestamp lies in ``(since, until]``) or by id (``ViewEvent``
rows, which carry a day but no time, in ``(after_id, up_to_id]``). Read with no lower bound,
a source gives everything up to the upper one: that is the rebuild.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Count, DateField, F, Q, QuerySet, Value
from django.db.models.functions import TruncDate, TruncMonth

from analytics.models import Metric, ShareClick
from badges.models import Award, AwardNotification, AwardStatusEvent, StatusAction
from badges.models.notifications import NotificationKind
from earners.models import Kind, ViewEvent
from frameworks.models import PathwayCompletion
from verification.models import OwnVerification

#: The output columns, in ``DailyCount``'s order.
COLUMNS = ("a_day", "a_institution", "a_issuer", "a_achievement", "a_metric", "a_channel", "a_n")


def _grouped(
    rows: QuerySet[Any, Any],
    *,
    day: Any,
    award: str,
    metric: str,
    channel: Any = "",
) -> QuerySet[Any, Any]:
    """``rows`` grouped into the output columns; ``award`` is the path to the award ("" when
    the rows are awards)."""
    prefix = f"{award}__" if award else ""
    grouped: QuerySet[Any, Any] = (
        rows.order_by()
        .annotate(
            a_day=day,
            a_institution=F(f"{prefix}issuer__institution_id"),
            a_issuer=F(f"{prefix}issuer_id"),
            a_achievement=F(f"{prefix}achievement_version__achievement_id"),
            a_metric=Value(metric),
            a_channel=Value(channel) if isinstance(channel, str) else channel,
        )
        .values(*COLUMNS[:-1])
        .annotate(a_n=Count("pk"))
    )
    return grouped


def _day(field: str, *, month: bool, is_date: bool = False) -> Any:
    """The day (or the month's first day) of ``field``, in the current time zone."""
    if month:
        return TruncMonth(field, output_field=DateField())
    return F(field) if is_date else TruncDate(field)


def _window(field: str, since: dt.datetime | None, until: dt.datetime) -> Q:
    found = Q(**{f"{field}__lte": until})
    return found & Q(**{f"{field}__gt": since}) if since is not None else found


def issued(
    since: dt.datetime | None, until: dt.datetime, month: bool = False
) -> QuerySet[Any, Any]:
    """Awards by the day they were awarded, read by when they were written (an award written
    after ``since`` was also updated after it: the indexed ``updated_at`` narrows the scan)."""
    rows = Award.objects.filter(_window("created_at", since, until))
    if since is not None:
        rows = rows.filter(updated_at__gt=since)
    return _grouped(rows, day=_day("awarded_at", month=month), award="", metric=Metric.ISSUED)


def claimed(
    since: dt.datetime | None, until: dt.datetime, month: bool = False
) -> QuerySet[Any, Any]:
    rows = Award.objects.filter(_window("claimed_at", since, until))
    return _grouped(rows, day=_day("claimed_at", month=month), award="", metric=Metric.CLAIMED)


def expired(
    since: dt.datetime | None, until: dt.datetime, month: bool = False
) -> QuerySet[Any, Any]:
    """Awards whose validity ended in the window (and written by its end)."""
    rows = Award.objects.filter(_window("valid_until", since, until), created_at__lte=until)
    return _grouped(rows, day=_day("valid_until", month=month), award="", metric=Metric.EXPIRED)


def expired_when_written(
    since: dt.datetime | None, until: dt.datetime, month: bool = False
) -> QuerySet[Any, Any] | None:
    """Awards written in the window whose validity had already ended before it: ``expired``
    missed them. A rebuild (no ``since``) needs none: ``expired`` reads them all."""
    if since is None:
        return None
    rows = Award.objects.filter(
        _window("created_at", since, until), updated_at__gt=since, valid_until__lte=since
    )
    return _grouped(rows, day=_day("valid_until", month=month), award="", metric=Metric.EXPIRED)


def _status(action: str, metric: str) -> Callable[..., QuerySet[Any, Any]]:
    def query(
        since: dt.datetime | None, until: dt.datetime, month: bool = False
    ) -> QuerySet[Any, Any]:
        rows = AwardStatusEvent.objects.filter(_window("at", since, until), action=action)
        return _grouped(rows, day=_day("at", month=month), award="award", metric=metric)

    return query


def _notifications(field: str, metric: str) -> Callable[..., QuerySet[Any, Any]]:
    def query(
        since: dt.datetime | None, until: dt.datetime, month: bool = False
    ) -> QuerySet[Any, Any]:
        rows = AwardNotification.objects.filter(
            _window(field, since, until), kind=NotificationKind.ISSUED
        )
        return _grouped(rows, day=_day(field, month=month), award="award", metric=metric)

    return query


def pathways(
    since: dt.datetime | None, until: dt.datetime, month: bool = False
) -> QuerySet[Any, Any]:
    rows = PathwayCompletion.objects.filter(_window("completed_at", since, until))
    return _grouped(
        rows, day=_day("completed_at", month=month), award="award", metric=Metric.PATHWAY
    )


def own_verifications(
    since: dt.datetime | None, until: dt.datetime, month: bool = False
) -> QuerySet[Any, Any]:
    """Verifications on this platform's verify page and API."""
    rows = OwnVerification.objects.filter(_window("created_at", since, until))
    return _grouped(
        rows,
        day=_day("day", month=month, is_date=True),
        award="award",
        metric=Metric.VERIFIED,
        channel=F("channel"),
    )


def shares(
    since: dt.datetime | None, until: dt.datetime, month: bool = False
) -> QuerySet[Any, Any]:
    rows = ShareClick.objects.filter(_window("created_at", since, until))
    return _grouped(
        rows,
        day=_day("day", month=month, is_date=True),
        award="award",
        metric=Metric.SHARED,
        channel=F("target"),
    )


def views(after_id: int, up_to_id: int, month: bool = False) -> QuerySet[Any, Any]:
    """Badge page views and recorded verifications (``earners.ViewEvent``) of awards."""
    rows = ViewEvent.objects.filter(
        award__isnull=False, id__gt=after_id, id__lte=up_to_id, kind=Kind.VIEW
    )
    return _grouped(
        rows,
        day=_day("day", month=month, is_date=True),
        award="award",
        metric=Metric.VIEWED,
        channel=F("channel"),
    )


def recorded_verifications(after_id: int, up_to_id: int, month: bool = False) -> QuerySet[Any, Any]:
    rows = ViewEvent.objects.filter(
        award__isnull=False, id__gt=after_id, id__lte=up_to_id, kind=Kind.VERIFICATION
    )
    return _grouped(
        rows,
        day=_day("day", month=month, is_date=True),
        award="award",
        metric=Metric.VERIFIED,
        channel=F("channel"),
    )


BY_TIME: tuple[Callable[..., QuerySet[Any, Any] | None], ...] = (
    issued,
    claimed,
    expired,
    expired_when_written,
    _status(StatusAction.REVOKED, Metric.REVOKED),
    _status(StatusAction.SUSPENDED, Metric.SUSPENDED),
    _notifications("sent_at", Metric.EMAILED),
    _notifications("opened_at", Metric.OPENED),
    pathways,
    own_verifications,
    shares,
)
BY_ID: tuple[Callable[..., QuerySet[Any, Any]], ...] = (views, recorded_verifications)


def last_view_id() -> int:
    found = ViewEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return int(found or 0)
