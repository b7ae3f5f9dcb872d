"""Generated bulk-award uploads for the fuzz pass: CSV text and XLSX archives.

:func:`csv_uploads` writes a header (our column names in any case and spacing, unknown
ones, duplicates) and rows of hostile cells (formulas, dates that do not exist, numbers
``Decimal`` reads oddly, values past the field limit, quotes and line breaks) in a random
dialect and encoding, then perhaps damages the bytes. :func:`xlsx_uploads` saves the same
kind of sheet with openpyxl, then perhaps damages the archive: a part's XML changed (entity
bombs among the edits) with the zip kept valid, parts dropped, doubled or added (directories,
odd names, a nested zip, a deflate bomb), other compression methods, a central directory that
lies about sizes, or plain byte edits. Archives are rebuilt with constant times, so a seed
gives the same bytes on every run.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import warnings
import zipfile
from datetime import date, datetime, time
from typing import Any

from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from awarding.bulk.parse import COLUMNS
from tests.fuzz.mutations import mutated

Draw = st.DrawFn

_HEADERS = [name for names in COLUMNS.values() for name in names] + [
    "",
    "Unknown",
    "email ",
    " E_Mail ",
    "EMAIL ADDRESS",
    "学 号",
    "=cmd|' /C calc'!A0",
]

_CELLS = [
    "lee@example.com",
    "LEE@EXAMPLE.COM",
    "李华@例子.中国",
    "not an e-mail",
    "a@b",
    '=HYPERLINK("http://x","y")',
    "+1",
    "@SUM(1)",
    "2027-06-30",
    "2027/02/30",
    "2027年6月30日",
    "31/12/9999",
    "9999-12-31",
    "0001-01-01",
    "2000-01-01",
    "1e999",
    "NaN",
    "sNaN",
    "-Infinity",
    "-0",
    "7,5",
    "7.555",
    "1_0",
    "١٥",
    "1" * 400,
    "en",
    "zh-Hans",
    "klingon",
    "A",
    "B+",
    "https://example.com/evidence",
    "javascript:alert(1)",
    "http://127.0.0.1/",
    "S1234567",
    "学号-001",
    'quote " inside',
    "line\nbreak",
    "\x00",
    "\ufeff",
    "x" * 10_001,
    "y" * 131_073,
]

_CELL = st.one_of(st.sampled_from(_CELLS), st.text(max_size=30), st.just(""))


@st.composite
def sheet(draw: Draw) -> list[list[str]]:
    """A header and rows of cell texts."""
    header = draw(st.lists(st.sampled_from(_HEADERS), min_size=0, max_size=12))
    if draw(st.integers(0, 9)) < 9:  # (Hypothesis draws 0 most: make it the usual case)
        header.insert(0, draw(st.sampled_from(["Email", "电子邮箱", "Student number", "登录名"])))
    header = [
        draw(st.sampled_from([name, name.upper(), name.title(), f"  {name} "])) for name in header
    ]
    width = max(len(header), 1)
    rows = draw(
        st.lists(
            st.lists(_CELL, min_size=0, max_size=width + draw(st.integers(0, 3))),
            min_size=draw(st.sampled_from([1, 1, 1, 0])),
            max_size=25,
        )
    )
    return [header, *rows]


@st.composite
def csv_uploads(draw: Draw) -> tuple[bytes, str]:
    """(file bytes, file name) of a generated, perhaps damaged, CSV upload."""
    rows = draw(sheet())
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=draw(st.sampled_from([",", ";", "\t", "|"])),
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])),
        lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])),
    )
    writer.writerows(rows)
    text = buffer.getvalue()
    encoding = draw(
        st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "gb18030", "gb18030", "utf-16", "latin-1"])
    )
    data = text.encode(encoding, "replace")
    damage = draw(st.sampled_from(["none", "none", "bytes", "random"]))
    if damage == "bytes":
        data = draw(mutated(data))
    elif damage == "random":
        data = draw(st.binary(max_size=2048))
    name = draw(st.sampled_from(["learners.csv", "learners.CSV", "learners.txt", "", "x.xlsx"]))
    return data, name


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------

_NUMBERS = [0, -0.0, 1, 15, 7.5, 1e308, -1e308, 5e-324, 2**53 + 1, 10**20, True, False]
# Spreadsheet cells hold naive moments: exactly what an upload brings.
_MOMENTS = [
    datetime(1900, 1, 1),  # noqa: DTZ001
    datetime(1900, 3, 1),  # noqa: DTZ001
    datetime(9999, 12, 31, 23, 59, 59),  # noqa: DTZ001
    datetime(2027, 6, 30),  # noqa: DTZ001
    date(2027, 6, 30),
    date(1, 1, 1),
    time(12, 30),
]


def _workbook(draw: Draw) -> bytes:
    book = Workbook()
    sheet_ = book.worksheets[0]
    if draw(st.integers(0, 5)) == 5:  # the learners on a second sheet, the first empty
        sheet_.title = "Empty"
        sheet_ = book.create_sheet("Learners")
    rows = draw(sheet())
    for row in rows:
        cells: list[Any] = []
        for text in row:
            kind = draw(st.integers(0, 9))
            if kind == 9:
                cells.append(draw(st.sampled_from(_NUMBERS)))
            elif kind == 8:
                cells.append(draw(st.sampled_from(_MOMENTS)))
            elif kind == 7:
                cells.append(draw(st.sampled_from(["=1/0", "=A1", "=SUM(A:A)", None])))
            else:
                cells.append(text[:32767])
        try:
            sheet_.append(cells)
        except (IllegalCharacterError, ValueError, TypeError):
            sheet_.append(["".join(ch for ch in str(c) if ch.isprintable()) for c in cells])
    if draw(st.integers(0, 9)) == 9:  # far to the right
        sheet_.cell(row=1, column=draw(st.sampled_from([101, 1000, 16384])), value="x")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


_XML_TRICKS = [
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;'
    b'&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><x>&c;</x>',
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    b"<x>" * 20_000,
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<dimension ref="A1:XFD1048576"/><sheetData><row r="1048576"><c r="XFD1048576" t="s">'
    b"<v>999999</v></c></row></sheetData></worksheet>",
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    + b"<si><t>x</t></si>" * 2000
    + b"</sst>",
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    + b'<row r="1">'
    + b'<c t="inlineStr"><is><t>x</t></is></c>' * 3000
    + b"</row></sheetData></worksheet>",
    b"",
    b"\xff\xfe<\x00",
]

_MOMENT = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_ODD_MEMBERS = [
    ("xl/", b""),
    ("../../evil.txt", b"x"),
    ("/abs.xml", b"<x/>"),
    ("n" * 300 + ".xml", b"<x/>"),
    ("xl/nested.xlsx", b"PK\x05\x06" + b"\x00" * 18),
    ("xl/zeros.bin", b"\x00" * (3 << 20)),
]


def _members(data: bytes) -> list[tuple[str, bytes]]:
    """The parts of a saved workbook, its save time made constant (openpyxl writes the
    current time into ``docProps/core.xml``: the same example must give the same bytes)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            (info.filename, _MOMENT.sub(b"2026-01-01T00:00:00Z", archive.read(info)))
            for info in archive.infolist()
        ]


def _rezip(members: list[tuple[str, bytes]], method: int) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression=method) as archive:
        warnings.simplefilter("ignore")  # "Duplicate name": the doubled part is the point
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buffer.getvalue()


def _lie_about_sizes(draw: Draw, data: bytes) -> bytes:
    """Overwrite the declared sizes of one central-directory entry."""
    entries = [i for i in range(len(data)) if data.startswith(b"PK\x01\x02", i)]
    if not entries:
        return data
    at = draw(st.sampled_from(entries))
    size = draw(st.sampled_from([0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 1 << 30]))
    field = draw(st.sampled_from([20, 24]))  # compressed, uncompressed size
    return data[: at + field] + struct.pack("<I", size) + data[at + field + 4 :]


@st.composite
def xlsx_uploads(draw: Draw) -> tuple[bytes, str]:
    """(file bytes, file name) of a generated, perhaps damaged, XLSX upload."""
    data = _workbook(draw)
    kind = draw(
        st.sampled_from(["as saved", "part", "drop", "double", "odd", "method", "lie", "bytes"])
    )
    members = _members(data)
    if kind == "part":  # the sheet and its strings first: the parts the counts are about
        names = [name for name, _ in members]
        wanted = [names.index(n) for n in names if n.startswith(("xl/worksheets/", "xl/shared"))]
        index = draw(st.sampled_from(wanted + list(range(len(members)))))
        name, xml = members[index]
        xml = draw(st.one_of(mutated(xml), st.sampled_from(_XML_TRICKS)))
        members[index] = (name, xml)
    elif kind == "drop":
        members.pop(draw(st.integers(0, len(members) - 1)))
    elif kind == "double":
        members.append(members[draw(st.integers(0, len(members) - 1))])
    elif kind == "odd":
        for odd in draw(st.lists(st.sampled_from(_ODD_MEMBERS), min_size=1, max_size=6)):
            members.insert(draw(st.integers(0, len(members))), odd)
    method = zipfile.ZIP_DEFLATED
    if kind == "method":
        method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
    data = _rezip(members, method)  # with constant times, as saved or not
    if kind == "lie":
        data = _lie_about_sizes(draw, data)
    elif kind == "bytes":
        data = draw(mutated(data))
    name = draw(st.sampled_from(["learners.xlsx", "LEARNERS.XLSX", "learners.csv", ""]))
    return data, name
