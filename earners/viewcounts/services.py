"""View counting off the request path: counts buffered in Redis, flushed into ``ViewEvent``.

A public badge page used to INSERT one ``ViewEvent`` row per view, inside the request. With a
Redis for the buffer (``INSIGNIA_VIEW_BUFFER_URL``, by default the cache's), a view is one
``HINCRBY`` on a hash whose field is the row to be (target, day, channel, kind,
organisation) and whose value is how many; ``flush`` (Celery beat, every few seconds) turns
the hash into the same ``ViewEvent`` rows, one per view, so "who viewed my badge" and the
issuer's totals read exactly what they read before. Without a Redis (``make run``'s
embedded defaults, tests) ``count`` inserts the row directly, as before.

Nothing is lost or counted twice when a process dies:

- a web worker killed after ``HINCRBY`` answered: the count is in Redis already;
- a flusher killed at any point: it works on the buffer only after ``RENAMENX`` moved it
  to a processing key (new views go to a fresh buffer), records the id of its PostgreSQL
  transaction next to it before committing, and deletes the processing key only after the
  commit. The next flush finds the leftover key first and asks PostgreSQL what became of that
  transaction (``pg_xact_status``): committed, the rows are in and the key is dropped;
  aborted (or never started), the rows are inserted again. While the dead flusher's
  transaction is still open it waits for the next round.

One flusher runs at a time (a PostgreSQL advisory lock, released by PostgreSQL itself when
the holder's connection dies, so a killed flusher never blocks the next one for long).
``count`` never raises: a Redis that does not answer falls back to the direct INSERT.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from badges.models import Award
from earners.models import Collection, ViewEvent

log = logging.getLogger(__name__)

ORGANISATION_MAX = 120
INSERT_BATCH = 2000
# pg_try_advisory_lock key of the one flusher: "ViewFlsh" as a 64-bit integer.
FLUSH_LOCK = 0x56696577466C7368

_clients: dict[str, redis.Redis] = {}


def _client() -> redis.Redis | None:
    """The buffer's Redis, or None when there is none (then views are inserted directly)."""
    url = settings.INSIGNIA_VIEW_BUFFER_URL
    if not url:
        return None
    found = _clients.get(url)
    if found is None:
        # Short timeouts: a Redis that stops answering costs a view a fraction of a second,
        # then the view is inserted directly instead.
        found = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        _clients[url] = found
    return found


def _keys() -> tuple[str, str, str]:
    """The buffer, the batch being flushed, and that batch's transaction id."""
    base = settings.INSIGNIA_VIEW_BUFFER_KEY
    return f"{base}:pending", f"{base}:processing", f"{base}:processing:txid"


def _field(
    award_id: object, collection_id: object, channel: str, kind: str, organisation: str
) -> str:
    day = timezone.localdate().isoformat()
    target = ["a", str(award_id)] if award_id is not None else ["c", str(collection_id)]
    return json.dumps([*target, day, channel, kind, organisation], separators=(",", ":"))


def insert(
    *,
    award: Award | None,
    collection: Collection | None,
    channel: str,
    kind: str,
    organisation: str,
) -> None:
    """One ``ViewEvent`` row now, in its own savepoint; never raises."""
    try:
        with transaction.atomic():
            ViewEvent.objects.create(
                award=award,
                collection=collection,
                day=timezone.localdate(),
                channel=channel,
                kind=kind,
                organisation=organisation,
            )
    except DatabaseError:
        log.warning("could not record a view", exc_info=True)


def count(
    *,
    award: Award | None,
    collection: Collection | None,
    channel: str,
    kind: str,
    organisation: str,
) -> None:
    """Count one view: into the Redis buffer when there is one, else straight into the
    database. ``organisation`` is already trimmed. Never raises."""
    client = _client()
    if client is not None:
        award_id = award.pk if award is not None else None
        collection_id = collection.pk if collection is not None else None
        field = _field(award_id, collection_id, channel, kind, organisation)
        try:
            client.hincrby(_keys()[0], field, 1)
            return
        except redis.RedisError:
            log.warning("view buffer unavailable; inserting the view directly", exc_info=True)
    insert(
        award=award, collection=collection, channel=channel, kind=kind, organisation=organisation
    )


def pending() -> int:
    """Views counted but not yet in the database (the buffer plus a batch being flushed)."""
    client = _client()
    if client is None:
        return 0
    total = 0
    for key in _keys()[:2]:
        total += sum(int(n) for n in client.hvals(key))
    return total


@contextmanager
def _flush_lock() -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [FLUSH_LOCK])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [FLUSH_LOCK])


def _rows(batch: dict[bytes, bytes]) -> list[ViewEvent]:
    """The ``ViewEvent`` rows of a batch, one per view; awards and collections deleted since
    they were viewed are left out (their events would have been deleted with them)."""
    parsed: list[tuple[str, str, str, str, str, str, int]] = []
    for raw, views in batch.items():
        try:
            kind_of, target, day, channel, kind, organisation = json.loads(raw)
            parsed.append((kind_of, target, day, channel, kind, organisation, int(views)))
        except (ValueError, TypeError):
            log.error("dropping an unreadable view count %r", raw)
    award_ids = {p[1] for p in parsed if p[0] == "a"}
    collection_ids = {p[1] for p in parsed if p[0] == "c"}
    awards = {str(pk) for pk in Award.objects.filter(pk__in=award_ids).values_list("pk", flat=True)}
    collections = {
        str(pk)
        for pk in Collection.objects.filter(pk__in=collection_ids).values_list("pk", flat=True)
    }
    rows: list[ViewEvent] = []
    for kind_of, target, day, channel, kind, organisation, n in parsed:
        if target not in (awards if kind_of == "a" else collections):
            continue
        fields: dict[str, Any] = {"award_id" if kind_of == "a" else "collection_id": target}
        rows.extend(
            ViewEvent(day=day, channel=channel, kind=kind, organisation=organisation, **fields)
            for _ in range(n)
        )
    return rows


def _transaction_status(txid: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_xact_status(%s::text::xid8)", [txid])
        status = cursor.fetchone()[0]
    return str(status) if status is not None else None


def _finish(client: redis.Redis, stage: Callable[[str], None]) -> int | None:
    """Flush the batch under the processing key; the number of views it inserted, or None
    when the batch must wait (its earlier flusher's transaction is still open)."""
    _, processing, txid_key = _keys()
    recorded = client.get(txid_key)
    if recorded is not None:
        status = _transaction_status(int(recorded))
        if status == "in progress":
            return None
        if status == "committed":
            client.delete(processing, txid_key)
            return 0
        if status is None:
            # Too old for PostgreSQL to remember: set it aside for a person to look at
            # rather than risk counting it twice.
            aside = f"{processing}:unknown:{uuid.uuid4().hex}"
            client.rename(processing, aside)
            client.delete(txid_key)
            log.error("view counts of an unknown transaction %s kept at %s", recorded, aside)
            return 0
        client.delete(txid_key)  # aborted: insert again below
    batch: dict[bytes, bytes] = client.hgetall(processing)  # type: ignore[assignment]
    if not batch:
        client.delete(processing)
        return 0
    rows = _rows(batch)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text")
            client.set(txid_key, int(cursor.fetchone()[0]))
        stage("recorded")
        ViewEvent.objects.bulk_create(rows, batch_size=INSERT_BATCH)
        stage("inserted")
    stage("committed")
    client.delete(processing, txid_key)
    return len(rows)


def flush(*, stage: Callable[[str], None] = lambda _name: None) -> int:
    """Move the buffered views into ``ViewEvent`` rows; the number of rows inserted.

    A leftover batch of a flusher that died is finished first. ``stage`` is called at each
    step ("recorded", "inserted", "committed"): the crash test stops a real flusher there.
    """
    client = _client()
    if client is None:
        return 0
    pending_key, processing, _ = _keys()
    inserted = 0
    with _flush_lock() as got:
        if not got:
            return 0  # another flusher is at it
        if client.exists(processing):
            done = _finish(client, stage)
            if done is None:
                return 0
            inserted += done
        # RENAMENX never overwrites a batch: the buffer moves only once the last one is gone.
        if client.exists(pending_key) and client.renamenx(pending_key, processing):
            inserted += _finish(client, stage) or 0
    return inserted
