"""The awards list at any volume: which awards match a registrar's search and filters, and one
page of them, paged by a keyset cursor (never ``OFFSET``).

A filter (:class:`AwardFilter`) is what the list's GET form says: a search (learner name,
e-mail address or its start, institutional identifier, or a credential id), a
micro-credential, an issuer, a state, an award-date range, a bulk upload, and a sort. The
same filter selects the rows of a page, of an export and of a bulk action, so the three
always agree.

Every filter and sort rides an index of ``badges.models.Award`` (see its ``Meta`` and the
trigram and e-mail-prefix indexes its migration adds on PostgreSQL); a page reads its rows,
their e-mails and a capped count, whatever the number of awards.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from django.db.models import F, Q, QuerySet, Value
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from badges import selectors
from badges.models import Achievement, Award, AwardStatus, BulkBatch, BulkRow
from issuers.models import Institution, Issuer
from issuers.permissions import visible_issuers
from openbadges.ob3 import normalize_email, normalize_identifier

#: Rows on one page of the awards list.
PAGE_SIZE: Final = 50
#: The list counts matches up to this many, then says "more than" (the confirmation of a bulk
#: action counts exactly). Counting reads each match: at a million awards, 10,000 of them
#: took 70-150 ms of every filtered page.
COUNT_CAP: Final = 1_000

#: What the state filter offers. "superseded": re-issued, or replaced after the learner's
#: change of address; the others are those of ``badges.selectors.awards_in_state``.
STATES: Final = ("issued", "claimed", "revoked", "suspended", "expired", "superseded")
SORTS: Final = ("newest", "oldest", "name")

#: The award date under another name, for the states whose awards lie thinly over the date
#: index: expired awards are the old ones, so walking ``award_list_date`` from the newest
#: passed every award not yet expired first (about a year of awards, 550,000 rows and 2 s at a
#: million). Ordered by this expression instead, PostgreSQL reads just the expired awards
#: through ``award_list_expired`` (index only) and keeps the page's 51 (about 40 ms); the same
#: for superseded awards, a few thousand ids looked up by primary key.
APART_DATE: Final = "date_apart"


@dataclass(frozen=True)
class AwardFilter:
    """Which awards a registrar asked for; every field left empty matches everything."""

    search: str = ""
    achievement: uuid.UUID | None = None
    issuer: int | None = None
    state: str = ""
    awarded_from: datetime | None = None
    awarded_until: datetime | None = None
    batch: uuid.UUID | None = None
    sort: str = "newest"

    @property
    def is_empty(self) -> bool:
        """Whether nothing narrows the list (the sort does not)."""
        return not (
            self.search
            or self.achievement
            or self.issuer
            or self.state
            or self.awarded_from
            or self.awarded_until
            or self.batch
        )


def _search(awards: QuerySet[Award], text: str) -> QuerySet[Award]:
    """Awards whose learner is named by ``text``: a credential id, an e-mail address (exact or
    its start), an institutional identifier (exact), or part of the learner's name
    (case-insensitive; a trigram index on PostgreSQL)."""
    text = text.strip()
    if not text:
        return awards
    reference = selectors.parse_reference(text)
    if reference is not None and len(text) >= 32:
        return awards.filter(pk=reference)
    email = normalize_email(text)
    if "@" in text:
        return awards.filter(recipient_email__startswith=email)
    identifiers = {normalize_identifier("studentId", text), normalize_identifier("sourcedId", text)}
    return awards.filter(
        Q(recipient_name__icontains=text)
        | Q(recipient_email__startswith=email)
        | Q(recipient_identifier__in=identifiers)
    )


def in_state(awards: QuerySet[Award], state: str) -> QuerySet[Award]:
    """``awards`` in one of :data:`STATES` now."""
    if state == "superseded":
        # Two small id sets (superseded awards are few), each read through its own index.
        replaced = Award.objects.filter(preference__superseded_by__isnull=False).order_by()
        reissued = Award.objects.filter(reissued_from__isnull=False).order_by()
        return awards.filter(
            pk__in=replaced.values("pk").union(reissued.values("reissued_from_id"), all=True)
        ).alias(**{APART_DATE: F("awarded_at") + Value(timedelta(0))})
    found = selectors.awards_in_state(awards, state)
    if state == "expired":
        return found.alias(**{APART_DATE: F("awarded_at") + Value(timedelta(0))})
    return found


def matching(user: User, institution: Institution, filters: AwardFilter) -> QuerySet[Award]:
    """The awards of ``institution`` that ``user`` may read and that match ``filters``,
    unordered and without related rows (callers add what they show)."""
    # The issuers' ids, not a join: ``issuer_id IN (…)`` lets the capped count and the
    # issuer-first indexes be read without the institution's other rows.
    visible = visible_issuers(user, institution)
    issuers = Issuer.objects.filter(institution=institution).values_list("pk", flat=True)
    allowed = sorted(pk for pk in issuers if visible is None or pk in visible)
    awards = Award.objects.filter(issuer_id__in=allowed)
    if filters.issuer is not None:
        awards = awards.filter(issuer_id=filters.issuer)
    if filters.achievement is not None:
        awards = awards.filter(achievement_version__achievement_id=filters.achievement)
    if filters.awarded_from is not None:
        awards = awards.filter(awarded_at__gte=filters.awarded_from)
    if filters.awarded_until is not None:
        awards = awards.filter(awarded_at__lte=filters.awarded_until)
    if filters.batch is not None:
        awards = awards.filter(
            pk__in=BulkRow.objects.filter(batch_id=filters.batch, award__isnull=False).values(
                "award_id"
            )
        )
    if filters.state in STATES:
        awards = in_state(awards, filters.state)
    return _search(awards, filters.search)


def count_capped(awards: QuerySet[Award], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many awards match, counted up to ``cap``: (the number, whether there are more)."""
    found = awards.order_by().values("pk")[: cap + 1].count()
    return min(found, cap), found > cap


# --------------------------------------------------------------------------------------------
# Keyset paging
# --------------------------------------------------------------------------------------------


def _key_field(sort: str) -> str:
    return "recipient_name" if sort == "name" else "awarded_at"


def _descending(sort: str) -> bool:
    return sort == "newest"


def encode_cursor(award: Award, sort: str) -> str:
    """The cursor just past ``award`` in ``sort`` order: its sort key and id, opaque."""
    key: Any = award.recipient_name if sort == "name" else award.awarded_at.isoformat()
    raw = json.dumps([key, str(award.pk)], ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, uuid.UUID] | None:
    """The (sort key, id) in ``cursor``; None for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, pk = json.loads(raw.decode("utf-8"))
        ident = uuid.UUID(str(pk))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(key, str):
        return None
    if sort == "name":
        return key, ident
    moment = parse_datetime(key)
    if moment is None or timezone.is_naive(moment):
        return None
    return moment, ident


def ordered(awards: QuerySet[Award], sort: str, *, reverse: bool = False) -> QuerySet[Award]:
    """``awards`` in ``sort`` order (or its reverse), ties broken by id so the order is total
    (by :data:`APART_DATE` where the filter gave one)."""
    key = _key_field(sort)
    if key == "awarded_at" and APART_DATE in awards.query.annotations:
        key = APART_DATE
    descending = _descending(sort) != reverse
    prefix = "-" if descending else ""
    return awards.order_by(f"{prefix}{key}", f"{prefix}pk")


def past(
    awards: QuerySet[Award], sort: str, key: Any, pk: uuid.UUID, *, reverse: bool = False
) -> QuerySet[Award]:
    """The awards after (key, pk) in ``sort`` order (before it with ``reverse``). The bound
    on the key alone lets the index range scan start at the cursor."""
    field_name = _key_field(sort)
    descending = _descending(sort) != reverse
    op = "lt" if descending else "gt"
    bound = "lte" if descending else "gte"
    return awards.filter(**{f"{field_name}__{bound}": key}).filter(
        Q(**{f"{field_name}__{op}": key}) | Q(**{field_name: key, f"pk__{op}": pk})
    )


@dataclass
class Page:
    """One page of the awards list and the cursors either side of it."""

    rows: list[Award]
    next_cursor: str | None = None
    previous_cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def with_row_facts(awards: QuerySet[Award]) -> QuerySet[Award]:
    """``awards`` with what a row of the list shows: issuer, version and micro-credential, the
    e-mails sent (one prefetch) and whether the award was superseded (annotated)."""
    # Both are one-to-one: a left join each, through a unique index, never a scan.
    return (
        awards.select_related("issuer", "achievement_version__achievement")
        .defer("credential_json")
        .prefetch_related("notifications")
        .annotate(
            is_reissued=Q(reissued_as__isnull=False),
            is_replaced=Q(preference__superseded_by__isnull=False),
        )
    )


def _page_rows(query: QuerySet[Award], sort: str, *, reverse: bool, limit: int) -> list[Award]:
    """The first ``limit`` awards of ``query`` in ``sort`` order. Sorted apart
    (:data:`APART_DATE`), the page's ids come first, from the index alone, and then their rows
    with what the list shows: sorting every match joined to its issuer and version cost 0.6 s
    at a million awards, the ids alone about 40 ms."""
    in_order = ordered(query, sort, reverse=reverse)
    if APART_DATE not in query.query.annotations:
        return list(in_order[:limit])
    ids = list(in_order.values_list("pk", flat=True)[:limit])
    return list(ordered(query.filter(pk__in=ids), sort, reverse=reverse))


def page_of(
    awards: QuerySet[Award],
    sort: str,
    *,
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE,
) -> Page:
    """One page of ``awards`` in ``sort`` order: the first, the one after cursor ``after``, or
    the one before cursor ``before``. Reads ``size + 1`` rows to know whether there is more."""
    sort = sort if sort in SORTS else "newest"
    backwards = False
    query = awards
    came_after = False
    if after and (position := decode_cursor(after, sort)) is not None:
        query = past(query, sort, *position)
        came_after = True
    elif before and (position := decode_cursor(before, sort)) is not None:
        query = past(query, sort, *position, reverse=True)
        backwards = True
    rows = _page_rows(query, sort, reverse=backwards, limit=size + 1)
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    page = Page(rows=rows)
    if rows:
        has_next = True if backwards else more
        has_previous = more if backwards else came_after
        if has_next:
            page.next_cursor = encode_cursor(rows[-1], sort)
        if has_previous:
            page.previous_cursor = encode_cursor(rows[0], sort)
    return page


def chunks(awards: QuerySet[Award], sort: str, size: int = 2000) -> Iterator[list[Award]]:
    """Every award of ``awards`` in ``sort`` order, ``size`` at a time, each chunk read by
    keyset from the last (for exports: no long-running cursor, no ``OFFSET``)."""
    query = ordered(awards, sort)
    last: Award | None = None
    while True:
        chunk_query = query
        if last is not None:
            key = last.recipient_name if sort == "name" else last.awarded_at
            chunk_query = ordered(past(awards, sort, key, last.pk), sort)
        rows = list(chunk_query[:size])
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1]


def applicable(awards: QuerySet[Award], action: str) -> QuerySet[Award]:
    """Of ``awards``, those ``action`` would change: revoke the not yet revoked, suspend the
    active, reinstate the suspended, e-mail again those with an address, not revoked and not
    yet claimed."""
    if action == "revoke":
        return awards.exclude(status=AwardStatus.REVOKED)
    if action == "suspend":
        return awards.filter(status=AwardStatus.ACTIVE)
    if action == "reinstate":
        return awards.filter(status=AwardStatus.SUSPENDED)
    return (
        awards.exclude(status=AwardStatus.REVOKED)
        .exclude(recipient_email="")
        .filter(claimed_at__isnull=True)
    )


def latest_name(achievement: Achievement) -> str:
    """A micro-credential's name as its latest published version (else its draft) gives it;
    its versions prefetched in number order (``badges.selectors.achievements_of``)."""
    versions = list(achievement.versions.all())
    published = [v for v in versions if v.is_published]
    return (published[-1] if published else versions[-1]).name or achievement.slug


def recent_batches(user: User, institution: Institution, limit: int = 50) -> QuerySet[BulkBatch]:
    """The latest bulk uploads of ``institution`` that ``user`` may read (the batch filter)."""
    batches = BulkBatch.objects.filter(issuer__institution=institution)
    visible = visible_issuers(user, institution)
    if visible is not None:
        batches = batches.filter(issuer_id__in=visible)
    return batches.order_by("-created_at")[:limit]
