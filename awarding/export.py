"""The awards list's filter as a file: CSV (streamed, a chunk of rows at a time) or XLSX.

Every cell passes through ``common.spreadsheets`` (a learner called ``=HYPERLINK(…)`` stays
text). Rows are read in keyset chunks (``awarding.awards_list.chunks``), so an export of
100,000 awards holds one chunk in memory, never the whole set, and opens no long cursor.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any, Final

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from awarding import awards_list
from badges.credentials import credential_url
from badges.models import Award
from badges.state import award_state
from common import spreadsheets

#: An XLSX export is built whole before it is sent: at most this many rows (CSV has no limit).
XLSX_MAX: Final = 100_000


def headers() -> list[str]:
    return [
        _("Credential id"),
        _("Learner"),
        _("E-mail"),
        _("Identifier type"),
        _("Identifier"),
        _("Micro-credential"),
        _("Version"),
        _("Issuer"),
        _("Awarded"),
        _("Valid until"),
        _("Status"),
        _("Claimed"),
        _("Badge page"),
    ]


def _day(moment: Any) -> str:
    return timezone.localtime(moment).date().isoformat() if moment else ""


def rows(awards: QuerySet[Award], sort: str) -> Iterator[list[Any]]:
    """One list of cells per award of ``awards`` in ``sort`` order, after the header."""
    yield headers()
    now = timezone.now()
    query = awards.select_related("issuer", "achievement_version")
    for chunk in awards_list.chunks(query, sort):
        for award in chunk:
            kind = award.recipient_identifier_type
            yield [
                str(award.pk),
                award.recipient_name,
                award.recipient_email,
                award.get_recipient_identifier_type_display() if kind else "",
                award.recipient_identifier,
                award.achievement_version.name,
                award.achievement_version.number,
                award.issuer.name,
                _day(award.awarded_at),
                _day(award.valid_until),
                award_state(award, now=now).label,
                _day(award.claimed_at),
                credential_url(award.pk),
            ]


def csv_chunks(cells: Iterable[Iterable[Any]]) -> Iterator[str]:
    """``cells`` as CSV text, a few hundred lines at a time, with a byte-order mark first
    (so spreadsheet programs read UTF-8, Chinese names included)."""
    buffer = io.StringIO()
    writer = spreadsheets.csv_writer(buffer)
    buffer.write("\ufeff")
    for number, row in enumerate(cells, start=1):
        writer.writerow(row)
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_file(cells: Iterable[Iterable[Any]]) -> Any:
    """``cells`` as an XLSX file in a temporary file, rewound, for a ``FileResponse``."""
    target = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    spreadsheets.xlsx_file(_("Awards"), cells, target)
    target.seek(0)
    return target
