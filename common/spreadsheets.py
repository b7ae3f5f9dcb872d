"""Spreadsheets both ways.

Out: every CSV (or XLSX) the platform generates passes its cells through :func:`neutralise`,
so a learner called ``=HYPERLINK(…)`` is shown as that text, never run as a formula (OWASP,
"CSV Injection": a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
gets a leading ``'``). Numbers written as numbers (row numbers, credits) are left as they are.

In: an uploaded XLSX is a zip archive, checked here with :mod:`zipfile` before any XML parser
sees it (:func:`check_xlsx_archive`): the number of members, their declared sizes and
compression ratios (``zipfile`` never inflates a member past its declared size, so these are
real bounds), and, by streaming the inflated XML once, the number of shared strings, cells
and tags. The limits themselves are settings (``BULK_*`` in ``insignia.settings``); these
functions take them as arguments.
"""

from __future__ import annotations

import csv
import io
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

T = TypeVar("T")

#: First characters that make a spreadsheet program read a cell as a formula (with their
#: full-width forms, which some East Asian spreadsheet programs also accept).
FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")
_LEADING_BLANKS = " \u00a0\u3000"


def neutralise(value: T) -> T | str:
    """``value`` made safe for a spreadsheet cell: text starting (after blanks) with a formula
    character gets a leading ``'``; anything that is not text is returned as it is."""
    if isinstance(value, str) and value:
        first = value.lstrip(_LEADING_BLANKS)[:1] or value[:1]
        if value[:1] in FORMULA_STARTS or first in FORMULA_STARTS:
            return "'" + value
    return value


def neutralise_row(values: Iterable[Any]) -> list[Any]:
    """:func:`neutralise` over a row of cells (for ``csv`` or ``openpyxl``'s ``append``)."""
    return [neutralise(value) for value in values]


class SafeCsvWriter:
    """``csv.writer`` whose rows are neutralised cell by cell."""

    def __init__(self, stream: IO[str], **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, values: Iterable[Any]) -> Any:
        return self._writer.writerow(neutralise_row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: IO[str], **options: Any) -> SafeCsvWriter:
    """The writer for every CSV file we generate (see the module's docstring)."""
    return SafeCsvWriter(stream, **options)


def xlsx_file(title: str, rows: Iterable[Iterable[Any]], target: IO[bytes]) -> None:
    """Write ``rows`` to ``target`` as a one-sheet XLSX file (openpyxl's streaming writer),
    every cell neutralised as :func:`csv_writer`'s are (openpyxl would store text starting
    with ``=`` as a formula)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    for row in rows:
        sheet.append(neutralise_row(row))
    book.save(target)


# --------------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------------

_MIB = 1024 * 1024


def megabytes(size: int) -> str:
    """``size`` in MB for a message: 20971520 → "20"."""
    return f"{size / _MIB:.0f}" if size >= _MIB else f"{size / _MIB:.2f}"


def check_upload_size(size: int, limit: int) -> None:
    """Refuse a file of more than ``limit`` bytes, before it is read."""
    if size > limit:
        raise ValidationError(
            _("The file is larger than %(size)s MB.") % {"size": megabytes(limit)},
            code="too_large",
        )


@dataclass(frozen=True)
class XlsxLimits:
    """Bounds on an uploaded XLSX archive (the ``BULK_XLSX_*`` settings)."""

    max_uncompressed: int
    max_ratio: int
    max_members: int
    max_shared_strings: int
    max_cells: int
    #: Members smaller than this may have any ratio (tiny files compress oddly).
    ratio_floor: int = _MIB


#: A start tag of a shared string (``<si>``) or a cell (``<c …>``), with any namespace prefix.
_COUNTED = re.compile(rb"<(?:[^\s<>/:!?]{1,64}:)?(si|c)[\s/>]")
_TAIL = 128  # bytes carried between chunks, longer than any counted tag
_CHUNK = 256 * 1024


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _check_members(archive: zipfile.ZipFile, limits: XlsxLimits) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise _refuse(
            _("The spreadsheet holds more than %(count)s parts; it cannot be read.")
            % {"count": limits.max_members},
            "xlsx_members",
        )
    total = 0
    for member in members:
        total += member.file_size
        if total > limits.max_uncompressed:
            raise _refuse(
                _(
                    "The spreadsheet unpacks to more than %(size)s MB, so it is refused "
                    "unread; split it into smaller files or save it as CSV."
                )
                % {"size": megabytes(limits.max_uncompressed)},
                "xlsx_uncompressed",
            )
        if member.file_size > limits.ratio_floor and member.file_size > limits.max_ratio * max(
            member.compress_size, 1
        ):
            raise _refuse(
                _(
                    "The spreadsheet is compressed more than %(ratio)s to 1, as zip bombs "
                    "are, so it is refused unread."
                )
                % {"ratio": limits.max_ratio},
                "xlsx_ratio",
            )
    return members


def _count_tags(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, counts: dict[bytes, int]
) -> None:
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            for match in _COUNTED.finditer(window):
                if match.end() > len(tail):  # matches wholly in the tail were counted
                    counts[match.group(1)] += 1
            tail = window[-_TAIL:]


def check_xlsx_archive(data: bytes, limits: XlsxLimits) -> None:
    """Refuse an XLSX archive past ``limits`` before a spreadsheet library opens it; raises
    ``ValidationError`` whose message names the bound that was exceeded."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = _check_members(archive, limits)
            counts = {b"si": 0, b"c": 0}
            for member in members:
                if member.is_dir():
                    continue
                _count_tags(archive, member, counts)
                if counts[b"si"] > limits.max_shared_strings:
                    raise _refuse(
                        _(
                            "The spreadsheet has more than %(count)s different texts; split "
                            "it into smaller files."
                        )
                        % {"count": limits.max_shared_strings},
                        "xlsx_shared_strings",
                    )
                if counts[b"c"] > limits.max_cells:
                    raise _refuse(
                        _(
                            "The spreadsheet has more than %(count)s cells; split it into "
                            "smaller files."
                        )
                        % {"count": limits.max_cells},
                        "xlsx_cells",
                    )
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,  # a compression method zipfile does not have
        RuntimeError,  # an encrypted part
        EOFError,
        ValueError,
        OSError,
        zlib.error,
        lzma.LZMAError,
    ):
        raise _refuse(_("The spreadsheet could not be read."), "unreadable") from None
