"""Writes of the analytics app: folding new rows into the rollups, rebuilding them, and
counting a press of a LinkedIn button.

``fold`` runs every minute (Celery beat): in one transaction it locks the cursor, adds what
each source gained since the cursor (``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE
SET n = n + excluded.n``, set-based on PostgreSQL and SQLite alike) and moves the cursor on.
Sources read by time stop ``LAG`` before now, so a row written by a transaction that commits
a little after its timestamp is still found by the next fold; a transaction that stays open
longer than that is counted only by ``rebuild``. ``rebuild`` empties the rollups and runs
every source from the beginning into ``DailyCount`` and sums that by month, in one
transaction; figures are the same as after any
number of folds (``tests/analytics``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import DateField, F, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from analytics import sources
from analytics.models import DailyCount, FoldCursor, MonthlyCount, ShareClick
from badges.models import Award

log = logging.getLogger(__name__)

LAG = dt.timedelta(minutes=2)
CURSOR = "rollups"


def _insert(rows: QuerySet[Any, Any] | None, model: type[DailyCount | MonthlyCount]) -> None:
    """Add ``rows`` (a grouped source query) to the rollup ``model`` in one statement."""
    if rows is None:
        return
    select, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(sources.COLUMNS)
    # The names are ours; the values are the compiled query's parameters.
    head = f"INSERT INTO {table} (day, institution_id, issuer_id, achievement_id, metric, "
    body = f"channel, n) SELECT {columns} FROM ({select}) AS source WHERE true "  # nosec B608  # noqa: S608
    tail = "ON CONFLICT (day, issuer_id, achievement_id, metric, channel) "
    sql = head + body + tail + f"DO UPDATE SET n = {table}.n + excluded.n"  # nosec B608 - our table
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _cursor() -> FoldCursor:
    FoldCursor.objects.get_or_create(name=CURSOR)
    return FoldCursor.objects.select_for_update().get(name=CURSOR)


def _run(
    since: dt.datetime | None, until: dt.datetime, after_id: int, up_to_id: int, *, month: bool
) -> None:
    model = MonthlyCount if month else DailyCount
    for by_time in sources.BY_TIME:
        _insert(by_time(since, until, month=month), model)
    if up_to_id > after_id:
        for by_id in sources.BY_ID:
            _insert(by_id(after_id, up_to_id, month=month), model)


def _months_from_days() -> None:
    """``MonthlyCount`` summed from ``DailyCount`` (after a rebuild)."""
    rows = (
        DailyCount.objects.order_by()
        .annotate(
            a_day=TruncMonth("day", output_field=DateField()),
            a_institution=F("institution_id"),
            a_issuer=F("issuer_id"),
            a_achievement=F("achievement_id"),
            a_metric=F("metric"),
            a_channel=F("channel"),
        )
        .values(*sources.COLUMNS[:-1])
        .annotate(a_n=Sum("n"))
    )
    _insert(rows, MonthlyCount)


@transaction.atomic
def fold(*, now: dt.datetime | None = None) -> dt.datetime:
    """Add what happened since the last fold to the rollups; the time they now reach. The
    first fold of an empty installation reads everything (as ``rebuild`` does)."""
    cursor = _cursor()
    until = (now or timezone.now()) - LAG
    if cursor.at is not None and until <= cursor.at:
        return cursor.at
    up_to_id = sources.last_view_id()
    _run(cursor.at, until, cursor.last_id, up_to_id, month=False)
    _run(cursor.at, until, cursor.last_id, up_to_id, month=True)
    cursor.at, cursor.last_id = until, max(up_to_id, cursor.last_id)
    cursor.save(update_fields=["at", "last_id"])
    return until


@transaction.atomic
def rebuild(*, now: dt.datetime | None = None) -> dt.datetime:
    """Recompute the rollups from the source tables; the time they reach."""
    cursor = _cursor()
    until = (now or timezone.now()) - LAG
    DailyCount.objects.all().delete()
    MonthlyCount.objects.all().delete()
    up_to_id = sources.last_view_id()
    _run(None, until, 0, up_to_id, month=False)
    _months_from_days()
    cursor.at, cursor.last_id = until, up_to_id
    cursor.save(update_fields=["at", "last_id"])
    return until


def count_share(*, award: Award, target: str) -> None:
    """One press of a LinkedIn button; never raises (the learner is sent on regardless)."""
    try:
        with transaction.atomic():
            ShareClick.objects.create(award=award, target=target, day=timezone.localdate())
    except DatabaseError:
        log.warning("could not count a share", exc_info=True)
