"""Reading an uploaded bulk-award file into rows of cell values, within bounds.

CSV: UTF-8 (with or without BOM) or GB18030/GBK, dialect sniffed, at most
``BULK_MAX_COLUMNS`` values a row; a value past the csv module's own field limit refuses the
file with a clear error. XLSX: the archive is checked by
``common.spreadsheets.check_xlsx_archive`` (unpacked size, compression ratio, parts, shared
strings, cells) before openpyxl opens it, streamed (``read_only``) and ``BULK_MAX_COLUMNS``
wide; anything openpyxl cannot read is the one clear "could not be read" error.
``awarding.bulk.parse`` turns these rows into checked ``ParsedRow`` values.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from common import spreadsheets

logger = logging.getLogger(__name__)

_BEYOND_U07FF = re.compile("[\u0800-\U0010ffff]")
_GREEK_TO_THAANA = re.compile("[\u0370-\u07ff]")
_C1_CONTROLS = re.compile("[\x80-\x9f]")


def _gbk_read_as_utf8(text: str) -> bool:
    """Short GBK text can happen to be valid UTF-8 (学员 → "ѧԱ"): no character beyond
    U+07FF (every CJK character in UTF-8 is three bytes), but letters from two or more of the
    Greek…Thaana blocks, or C1 control characters, which real names never mix like that.
    (Regular expressions, so a large upload is scanned in C.)"""
    if _BEYOND_U07FF.search(text):
        return False
    blocks = {ord(ch) >> 7 for ch in _GREEK_TO_THAANA.findall(text)}
    return len(blocks) >= 2 or _C1_CONTROLS.search(text) is not None


def decode_csv(data: bytes) -> str:
    """Text of a CSV file: UTF-8 (a BOM is dropped), else GB18030 (a superset of GBK)."""
    try:
        if data.startswith(b"\xef\xbb\xbf"):  # a BOM says UTF-8: no other reading
            return data[3:].decode("utf-8")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if not _gbk_read_as_utf8(text):
                return text
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationError(
            _("The file is not UTF-8 or GBK text. Save it as “CSV UTF-8” and upload it again.")
        ) from None


def _cell(value: Any) -> str | datetime:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_limits() -> spreadsheets.XlsxLimits:
    return spreadsheets.XlsxLimits(
        max_uncompressed=settings.BULK_XLSX_MAX_UNCOMPRESSED_BYTES,
        max_ratio=settings.BULK_XLSX_MAX_RATIO,
        max_members=settings.BULK_XLSX_MAX_MEMBERS,
        max_shared_strings=settings.BULK_XLSX_MAX_SHARED_STRINGS,
        max_cells=settings.BULK_XLSX_MAX_CELLS,
    )


def _unreadable() -> ValidationError:
    return ValidationError(_("The spreadsheet could not be read."), code="unreadable")


def xlsx_rows(data: bytes) -> Iterator[list[str | datetime]]:
    """The first sheet's rows, streamed (``read_only``), at most ``BULK_MAX_COLUMNS`` wide,
    once the archive passed :func:`common.spreadsheets.check_xlsx_archive`."""
    spreadsheets.check_xlsx_archive(data, _xlsx_limits())
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl fails on malformed parts in many ways
        logger.info("unreadable XLSX upload: %r", error)
        raise _unreadable() from None
    try:
        if not workbook.worksheets:
            raise _unreadable()
        rows = workbook.worksheets[0].iter_rows(max_col=settings.BULK_MAX_COLUMNS, values_only=True)
        while True:
            try:
                values = next(rows, None)
            except Exception as error:  # a malformed sheet: as above
                logger.info("unreadable XLSX sheet: %r", error)
                raise _unreadable() from None
            if values is None:
                return
            yield [_cell(v) for v in values]
    finally:
        workbook.close()


def _lines(text: str, limit: int) -> Iterator[str]:
    """The physical lines of ``text`` for the csv module, refusing one longer than ``limit``
    (as many values as a row may have, each as long as it may be) before the csv module
    splits it into millions of values."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > limit:
            raise ValidationError(
                _("Line %(line)s is longer than %(limit)s characters; shorten its values.")
                % {"line": number, "limit": limit},
                code="line_too_long",
            )
        yield line


def csv_rows(data: bytes) -> Iterator[list[str | datetime]]:
    """The rows of a CSV file. A physical line past ``BULK_MAX_COLUMNS`` times
    ``BULK_MAX_FIELD_CHARS`` characters, or a value longer than the csv module's own field
    limit (131,072 characters, process-wide, so left as it is) refuse the file; values past
    ``BULK_MAX_FIELD_CHARS`` are row errors (``parse.parse_upload``)."""
    text = decode_csv(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    max_columns = settings.BULK_MAX_COLUMNS
    reader = csv.reader(_lines(text, max_columns * settings.BULK_MAX_FIELD_CHARS), dialect)
    while True:
        try:
            values = next(reader, None)
        except csv.Error as error:
            if "field limit" in str(error):
                raise ValidationError(
                    _(
                        "Line %(line)s has a value longer than %(limit)s characters; "
                        "shorten it and upload the file again."
                    )
                    % {"line": reader.line_num, "limit": settings.BULK_MAX_FIELD_CHARS},
                    code="field_too_long",
                ) from None
            raise ValidationError(
                _("The file could not be read as CSV (line %(line)s).") % {"line": reader.line_num},
                code="unreadable",
            ) from None
        if values is None:
            return
        yield list(values[:max_columns])
