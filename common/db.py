"""Database helpers shared by the apps: a fast bulk INSERT, and running a transaction again
when PostgreSQL picks it as a deadlock victim."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import psycopg.errors
from django.db import OperationalError, connection
from django.db.models import AutoField, BigAutoField, Model, SmallAutoField

logger = logging.getLogger(__name__)
T = TypeVar("T")


def insert_many(objects: Sequence[Model]) -> None:
    """INSERT ``objects`` (all of one model) with one ``executemany``: what ``bulk_create``
    does, minus Django 5.2's ``INSERT … SELECT * FROM UNNEST(%s::text[], …)`` on PostgreSQL.

    Why: UNNEST passes each column as one array literal, and psycopg builds array literals in
    Python, escaping every quote of every value with a regular expression. A signed credential
    is ~3 KB of JSON, so that escaping cost more than signing it
    (``bench/bulk.py``). Here each value is bound on its own (psycopg's C escaping), and
    psycopg sends the statements in one pipeline.

    Like ``bulk_create``: ``pre_save`` runs (``auto_now_add``), no ``save()``, no signals.
    Unlike it: auto-increment keys are left to the database and not read back, so use it for
    rows whose primary key is set (UUIDs) or never needed afterwards.
    """
    if not objects:
        return
    meta = type(objects[0])._meta
    auto = (AutoField, BigAutoField, SmallAutoField)
    fields = [f for f in meta.local_concrete_fields if not isinstance(f, auto)]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(meta.db_table)
    rows = [
        [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(  # nosemgrep: raw-sql-string-formatting - see the next line
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # nosec B608  # noqa: S608 - names are the model's own, quoted
            rows,
        )
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias


#: How often a chunk that lost a deadlock is tried again before the task gives up (the
#: sweeper re-enqueues the batch later).
_DEADLOCK_RETRIES = 5


def _transient(error: OperationalError) -> bool:
    """A deadlock or serialisation failure: PostgreSQL rolled the chunk back; try again."""
    cause = error.__cause__
    return isinstance(cause, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure)


def retrying_deadlocks(work: Callable[[], T]) -> T:
    """Run ``work`` (one whole transaction) again when PostgreSQL picks it as a deadlock's
    victim, up to ``_DEADLOCK_RETRIES`` times.

    Parallel awards can wait on each other: a status index drawn by both, uncommitted in one,
    makes the other wait for its commit, and two such waits can form a cycle. PostgreSQL then
    rolls one transaction back whole, and it is simply run again.
    """
    for attempt in range(_DEADLOCK_RETRIES):
        try:
            return work()
        except OperationalError as error:
            if not _transient(error) or attempt == _DEADLOCK_RETRIES - 1:
                raise
            logger.info("a transaction was a deadlock victim; running it again")
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
