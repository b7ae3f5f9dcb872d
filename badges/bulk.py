"""Reading bulk-award uploads (issue #8): CSV (UTF-8 with or without BOM, GB18030/GBK) and
XLSX, with English or Chinese headers, validated row by row and column by column.

Nothing here writes: ``parse_upload`` turns the file into ``ParsedRow`` values with their
errors, and ``badges.bulk_services.create_batch`` stores them as a dry run.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import normalize_email
from badges.models import AchievementVersion, Language

# Column key → accepted header spellings (compared case- and space-insensitively).
COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "email address", "电子邮箱", "邮箱", "电子邮件"),
    "name": ("name", "full name", "姓名", "名字"),
    "evidence_url": ("evidence url", "evidence link", "evidence", "证据链接", "佐证链接"),
    "evidence_narrative": ("evidence narrative", "narrative", "证据说明", "佐证说明"),
    "valid_until": ("valid until", "expiry", "expires", "有效期至", "到期日期"),
    "result": ("result", "grade", "成绩", "结果"),
    "language": ("language", "语言"),
    "credits_earned": ("credits earned", "credits", "获得学分", "学分"),
}

# Template headers, in the order of ``COLUMNS``.
HEADERS: dict[str, tuple[str, ...]] = {
    "en": (
        "Email",
        "Name",
        "Evidence URL",
        "Evidence narrative",
        "Valid until",
        "Result",
        "Language",
        "Credits earned",
    ),
    "zh": ("电子邮箱", "姓名", "证据链接", "证据说明", "有效期至", "成绩", "语言", "获得学分"),
}

COLUMN_LABELS = {
    "file": gettext_lazy("File"),
    "email": gettext_lazy("E-mail"),
    "name": gettext_lazy("Name"),
    "evidence_url": gettext_lazy("Evidence URL"),
    "evidence_narrative": gettext_lazy("Evidence narrative"),
    "valid_until": gettext_lazy("Valid until"),
    "result": gettext_lazy("Result"),
    "language": gettext_lazy("Language"),
    "credits_earned": gettext_lazy("Credits earned"),
}

_LANGUAGES = {
    "en": Language.EN,
    "english": Language.EN,
    "英文": Language.EN,
    "英语": Language.EN,
    "zh": Language.ZH_HANS,
    "zh-hans": Language.ZH_HANS,
    "zh-cn": Language.ZH_HANS,
    "chinese": Language.ZH_HANS,
    "中文": Language.ZH_HANS,
    "简体中文": Language.ZH_HANS,
}

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%d/%m/%Y")


@dataclass
class ParsedRow:
    """One data row of the upload: its spreadsheet row number, cleaned values and errors."""

    number: int
    email: str = ""
    name: str = ""
    evidence_url: str = ""
    evidence_narrative: str = ""
    valid_until: datetime | None = None
    result: str = ""
    language: str = ""
    credits_earned: Decimal | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def error(self, column: str, message: str) -> None:
        self.errors.append({"column": column, "message": message})


def max_rows() -> int:
    return int(getattr(settings, "BULK_MAX_ROWS", 10_000))


def template_csv(language: str) -> bytes:
    """The downloadable template: headers in ``language`` and one example row, UTF-8 with a
    BOM so spreadsheet programs open Chinese text correctly."""
    zh = language.lower().startswith("zh")
    headers = HEADERS["zh" if zh else "en"]
    example = (
        ["li.hua@example.com", "李华", "https://example.com/portfolio/li-hua", "期末项目报告"]
        if zh
        else ["lee@example.com", "Lee Learner", "https://example.com/portfolio/lee", "Report"]
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerow([*example, "", "", "zh" if zh else "en", ""])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _gbk_read_as_utf8(text: str) -> bool:
    """Short GBK text can happen to be valid UTF-8 (学员 → "ѧԱ"): no character beyond
    U+07FF (every CJK character in UTF-8 is three bytes), but letters from two or more of the
    Greek…Thaana blocks, or C1 control characters, which real names never mix like that."""
    if any(ord(ch) >= 0x800 for ch in text):
        return False
    blocks = {ord(ch) >> 7 for ch in text if 0x370 <= ord(ch) < 0x800}
    return len(blocks) >= 2 or any(0x80 <= ord(ch) < 0xA0 for ch in text)


def decode_csv(data: bytes) -> str:
    """Text of a CSV file: UTF-8 (a BOM is dropped), else GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if not _gbk_read_as_utf8(text):
            return text
    try:
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


def _xlsx_rows(data: bytes) -> Iterator[list[str | datetime]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ValidationError(_("The spreadsheet could not be read.")) from None
    sheet = workbook.worksheets[0]
    for values in sheet.iter_rows(values_only=True):
        yield [_cell(v) for v in values]
    workbook.close()


def _csv_rows(data: bytes) -> Iterator[list[str | datetime]]:
    text = decode_csv(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for values in csv.reader(io.StringIO(text), dialect):
        yield list(values)


def _header_key(text: str) -> str | None:
    wanted = " ".join(text.replace("_", " ").strip().lower().split())
    for key, names in COLUMNS.items():
        if wanted in names:
            return key
    return None


def _parse_date(value: str | datetime) -> datetime | None:
    if isinstance(value, datetime):
        return timezone.make_aware(value) if timezone.is_naive(value) else value
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(value.strip(), fmt)  # noqa: DTZ007 - made aware below
        except ValueError:
            continue
        # The credential expires at the end of that day, UTC.
        return timezone.make_aware(datetime.combine(parsed.date(), time(23, 59, 59)))
    return None


def _check_credits(row: ParsedRow, value: str, credit_value: float | None) -> None:
    """Partial credit (issue #7): a number from 0 to the version's credit value."""
    try:
        row.credits_earned = Decimal(value.replace(",", "."))
    except InvalidOperation:
        row.error("credits_earned", _("“%(value)s” is not a number.") % {"value": value})
        return
    try:
        from badges.services import credits_earned_value

        credits_earned_value(row.credits_earned, credit_value)
    except ValidationError as error:
        row.error("credits_earned", "; ".join(error.messages))


def _check_row(
    row: ParsedRow,
    raw: dict[str, str | datetime],
    version: AchievementVersion,
    credit_value: float | None = None,
) -> None:
    email = str(raw.get("email", "")).strip()
    row.email = normalize_email(email) if email else ""
    if not email:
        row.error("email", _("Enter the learner's e-mail address."))
    else:
        try:
            validate_email(row.email)
        except ValidationError:
            row.error("email", _("“%(value)s” is not an e-mail address.") % {"value": email})
    row.name = str(raw.get("name", "")).strip()
    if len(row.name) > 200:
        row.error("name", _("The name is longer than 200 characters."))
    row.evidence_url = str(raw.get("evidence_url", "")).strip()
    if row.evidence_url:
        try:
            URLValidator(schemes=["http", "https"])(row.evidence_url)
        except ValidationError:
            row.error("evidence_url", _("Evidence links must start with https:// or http://."))
    row.evidence_narrative = str(raw.get("evidence_narrative", "")).strip()
    expiry = raw.get("valid_until", "")
    if expiry:
        row.valid_until = _parse_date(expiry)
        if row.valid_until is None:
            row.error(
                "valid_until",
                _("“%(value)s” is not a date; write it as 2027-06-30.") % {"value": expiry},
            )
        elif row.valid_until <= timezone.now():
            row.error("valid_until", _("The expiry date must be in the future."))
    row.result = str(raw.get("result", "")).strip()
    if row.result:
        descriptions = version.result_descriptions or []
        if not descriptions:
            row.error("result", _("This micro-credential records no result."))
        else:
            allowed = [str(v) for v in descriptions[0].get("allowed_values") or []]
            if allowed and row.result not in allowed:
                row.error(
                    "result",
                    _("Use one of: %(values)s.") % {"values": ", ".join(allowed)},
                )
    credits = str(raw.get("credits_earned", "")).strip()
    if credits:
        _check_credits(row, credits, credit_value)
    language = str(raw.get("language", "")).strip()
    available = version.languages()
    if not language:
        row.language = available[0] if available else Language.EN
    else:
        row.language = _LANGUAGES.get(language.lower(), "")
        if not row.language:
            row.error("language", _("Write the language as en or zh."))
        elif row.language not in available:
            row.error("language", _("This version has no complete text in that language."))


def parse_upload(
    data: bytes, file_name: str, version: AchievementVersion, *, allow_repeats: bool = False
) -> list[ParsedRow]:
    """Parse and check every row of an uploaded CSV or XLSX file for ``version``.

    File-level problems (unreadable, no e-mail column, no rows, too many rows) raise
    ``ValidationError``; row problems are listed on each row, by column. The same e-mail twice
    in one file is an error unless ``allow_repeats`` (duplicate handling "allow").
    """
    is_xlsx = data[:4] == b"PK\x03\x04" or file_name.lower().endswith(".xlsx")
    reader = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    header = next(reader, None)
    if header is None:
        raise ValidationError(_("The file is empty."))
    keys = [_header_key(str(cell)) for cell in header]
    if "email" not in keys:
        raise ValidationError(
            _("The first row must name the columns, with one called Email (or 电子邮箱).")
        )
    credit_value = None
    if "credits_earned" in keys and version.languages():
        from badges import credentials

        credit_value = credentials.achievement(version, version.languages()[0]).credits_available
    rows: list[ParsedRow] = []
    seen: dict[str, int] = {}
    limit = max_rows()
    for number, values in enumerate(reader, start=2):
        if not any(str(v).strip() for v in values):
            continue
        if len(rows) >= limit:
            raise ValidationError(
                _("The file has more than %(limit)s rows; split it into smaller files.")
                % {"limit": limit}
            )
        raw = {key: value for key, value in zip(keys, values, strict=False) if key is not None}
        row = ParsedRow(number=number)
        _check_row(row, raw, version, credit_value)
        if row.email and not allow_repeats:
            if row.email in seen:
                row.error(
                    "email",
                    _("This e-mail address is already in row %(row)s.") % {"row": seen[row.email]},
                )
            else:
                seen[row.email] = number
        rows.append(row)
    if not rows:
        raise ValidationError(_("The file has no rows under its header."))
    return rows
