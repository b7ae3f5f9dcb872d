"""Reading bulk-award uploads: CSV (UTF-8 with or without BOM, GB18030/GBK) and XLSX, with
English or Chinese headers, validated row by row and column by column by the same rules an
award is issued under (``awarding.rules``), so the dry run shows every row's problems.

Nothing here writes: ``parse_upload`` turns the file (read within bounds by
``awarding.bulk.readers``) into ``ParsedRow`` values with their errors, and
``awarding.bulk.services.create_batch`` stores them as a dry run.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from awarding import rules
from awarding.bulk import readers
from awarding.bulk.readers import decode_csv as decode_csv
from badges.models import AchievementVersion, IdentifierType, Language
from common import spreadsheets
from frameworks.catalogue import selectors as catalogue_selectors
from openbadges.ob3 import normalize_email, normalize_identifier

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
    # Institutional identifiers (``badges.models.IdentifierType``), instead of or with the
    # e-mail: they do not change when the learner leaves.
    "student_id": ("student id", "student number", "student no", "student no.", "学号"),
    "sourced_id": (
        "sourced id",
        "sign-in name",
        "sign in name",
        "eppn",
        "edupersonprincipalname",
        "登录名",
        "统一身份账号",
    ),
}

#: The identifier columns, by the identifier type they hold.
IDENTIFIER_COLUMNS: dict[str, str] = {kind.field_name: kind.value for kind in IdentifierType}

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
        "Student number",
        "Sign-in name",
    ),
    "zh": (
        "电子邮箱",
        "姓名",
        "证据链接",
        "证据说明",
        "有效期至",
        "成绩",
        "语言",
        "获得学分",
        "学号",
        "登录名",
    ),
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
    "student_id": gettext_lazy("Student number"),
    "sourced_id": gettext_lazy("Sign-in name"),
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
    identifier_type: str = ""
    identifier: str = ""
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


def template_csv(language: str) -> bytes:
    """The downloadable template: the headers in ``language`` and no data row, UTF-8 with a
    BOM so spreadsheet programs open Chinese text correctly. A sample row would be issued as a
    real badge if it were left in; the upload page shows an example instead."""
    zh = language.lower().startswith("zh")
    buffer = io.StringIO()
    spreadsheets.csv_writer(buffer).writerow(HEADERS["zh" if zh else "en"])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# The sample rows earlier templates carried (e-mail, name, evidence link): a file made from one
# of those templates may still hold its sample, which must not become a real badge.
_TEMPLATE_SAMPLES = frozenset(
    {
        ("lee@example.com", "Lee Learner", "https://example.com/portfolio/lee"),
        ("li.hua@example.com", "李华", "https://example.com/portfolio/li-hua"),
    }
)

#: An address at a domain reserved for documentation and testing (RFC 2606, RFC 6761), where
#: no e-mail arrives; the same pattern in Python and in PostgreSQL (``selectors``).
EXAMPLE_ADDRESS = r"@(.*\.)?(example\.com|example\.org|example\.net|example|test|invalid)\.?$"


def is_example_address(email: str) -> bool:
    """Whether ``email`` is at a domain reserved for examples (``lee@example.com``,
    ``a@uni.test``): the dry run flags such rows, since no e-mail reaches them."""
    return re.search(EXAMPLE_ADDRESS, email.strip(), re.IGNORECASE) is not None


def _header_key(text: str) -> str | None:
    wanted = " ".join(text.replace("_", " ").strip().lower().split())
    for key, names in COLUMNS.items():
        if wanted in names:
            return key
    return None


def _parse_date(value: str | datetime) -> datetime | None:
    """A typed or spreadsheet date as an expiry (``awarding.rules.expiry_of``: a day is the
    end of that day in the deployment's time zone); None when it is not a date."""
    if isinstance(value, datetime):
        return rules.expiry_of(value)
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(value.strip(), fmt)  # noqa: DTZ007 - a day, made aware below
        except ValueError:
            continue
        return rules.expiry_of(parsed.date())
    return None


def _check(row: ParsedRow, column: str, rule: Callable[[], object]) -> None:
    """Run one rule of ``awarding.rules``; its refusal becomes the row's error in ``column``."""
    try:
        rule()
    except ValidationError as error:
        row.error(column, "; ".join(error.messages))


def _check_credits(row: ParsedRow, value: str, credit_value: float | None) -> None:
    """Partial credit: a number from 0 to the version's credit value."""
    try:
        earned = Decimal(value.replace(",", "."))
    except InvalidOperation:
        row.error("credits_earned", _("“%(value)s” is not a number.") % {"value": value})
        return
    row.credits_earned = earned
    _check(row, "credits_earned", lambda: rules.credits_earned_value(earned, credit_value))


def _check_recipient(row: ParsedRow, raw: dict[str, str | datetime]) -> None:
    """The learner: an e-mail address, a student number or sign-in name, or an address and
    one identifier (``awarding.rules.check_recipient``)."""
    email = str(raw.get("email", "")).strip()
    given = {
        column: str(raw.get(column, "")).strip()
        for column in IDENTIFIER_COLUMNS
        if str(raw.get(column, "")).strip()
    }
    if not email and not given:
        row.error(
            "email",
            _("Give the learner's e-mail address, student number or sign-in name."),
        )
        return
    if email:
        row.email = normalize_email(email)
        _check(row, "email", lambda: rules.check_email(email))
    if len(given) > 1:
        row.error("sourced_id", _("Give a student number or a sign-in name, not both."))
        return
    if given:
        ((column, value),) = given.items()
        kind = IDENTIFIER_COLUMNS[column]
        row.identifier_type = kind
        row.identifier = normalize_identifier(kind, value)[: rules.IDENTIFIER_MAX_LENGTH]
        _check(row, column, lambda: rules.check_identifier(kind, value))


def _check_row(
    row: ParsedRow,
    raw: dict[str, str | datetime],
    version: AchievementVersion,
    credit_value: float | None,
    now: datetime,
) -> None:
    _check_recipient(row, raw)
    row.name = str(raw.get("name", "")).strip()
    if len(row.name) > 200:
        row.error("name", _("The name is longer than 200 characters."))
    row.evidence_url = str(raw.get("evidence_url", "")).strip()
    if (row.email, row.name, row.evidence_url) in _TEMPLATE_SAMPLES:
        row.error("email", _("This is the template's example row; delete it."))
    if row.evidence_url:
        _check(row, "evidence_url", lambda: rules.check_evidence_url(row.evidence_url))
    row.evidence_narrative = str(raw.get("evidence_narrative", "")).strip()
    expiry = raw.get("valid_until", "")
    if expiry:
        valid_until = _parse_date(expiry)
        if valid_until is None:
            row.error(
                "valid_until",
                _("“%(value)s” is not a date; write it as 2027-06-30.") % {"value": expiry},
            )
        else:
            row.valid_until = valid_until
            _check(row, "valid_until", lambda: rules.check_expiry(valid_until, now))
    row.result = str(raw.get("result", "")).strip()
    if row.result:
        _check(row, "result", lambda: rules.check_result(version, row.result))
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
        else:
            _check(row, "language", lambda: rules.language_for(row.language, available))


def _check_repeats(row: ParsedRow, seen: dict[tuple[str, str], int]) -> None:
    """The same learner twice in one file: by e-mail address, or by identifier."""
    if row.email:
        earlier = seen.setdefault(("email", row.email), row.number)
        if earlier != row.number:
            row.error(
                "email",
                _("This e-mail address is already in row %(row)s.") % {"row": earlier},
            )
    if row.identifier:
        earlier = seen.setdefault((row.identifier_type, row.identifier), row.number)
        if earlier != row.number:
            row.error(
                IdentifierType(row.identifier_type).field_name,
                _("This identifier is already in row %(row)s.") % {"row": earlier},
            )


def check_upload_size(size: int) -> None:
    """Refuse a file over ``BULK_MAX_UPLOAD_BYTES`` before it is read (console and API)."""
    spreadsheets.check_upload_size(size, settings.BULK_MAX_UPLOAD_BYTES)


def _shorten(
    raw: dict[str, str | datetime], limit: int
) -> tuple[dict[str, str | datetime], list[str]]:
    """``raw`` with values past ``BULK_MAX_FIELD_CHARS`` cut to it, and their columns."""
    long = [key for key, value in raw.items() if isinstance(value, str) and len(value) > limit]
    return {**raw, **{key: str(raw[key])[:limit] for key in long}}, long


def parse_upload(
    data: bytes, file_name: str, version: AchievementVersion, *, allow_repeats: bool = False
) -> list[ParsedRow]:
    """Parse and check every row of an uploaded CSV or XLSX file for ``version``.

    File-level problems (too large, unreadable, an XLSX archive past its bounds, a value too
    long for the csv module, neither an e-mail nor an identifier column, no rows, too many
    rows or lines) raise ``ValidationError``; row problems (a value past
    ``BULK_MAX_FIELD_CHARS`` among them) are listed on each row, by column. The same e-mail or
    identifier twice in one file is an error unless ``allow_repeats`` (duplicate handling
    "allow").
    """
    check_upload_size(len(data))
    is_xlsx = data[:4] == b"PK\x03\x04" or file_name.lower().endswith(".xlsx")
    reader = readers.xlsx_rows(data) if is_xlsx else readers.csv_rows(data)
    header = next(reader, None)
    if header is None:
        raise ValidationError(_("The file is empty."))
    keys = [_header_key(str(cell)) for cell in header]
    if not {"email", *IDENTIFIER_COLUMNS} & set(keys):
        raise ValidationError(
            _(
                "The first row must name the columns, with one called Email (or 电子邮箱), "
                "Student number (学号) or Sign-in name (登录名)."
            )
        )
    credit_value = None
    if "credits_earned" in keys:
        credit_value = rules.credit_value(catalogue_selectors.placement_of(version))
    now = timezone.now()
    rows: list[ParsedRow] = []
    seen: dict[tuple[str, str], int] = {}
    limit = settings.BULK_MAX_ROWS
    max_lines = max(settings.BULK_MAX_LINES, limit + 1)
    max_chars = settings.BULK_MAX_FIELD_CHARS
    for number, values in enumerate(reader, start=2):
        if number > max_lines:
            raise ValidationError(
                _(
                    "The file has more than %(limit)s lines, blank ones included; remove "
                    "the blank lines or split it into smaller files."
                )
                % {"limit": max_lines}
            )
        if not any(str(v).strip() for v in values):
            continue
        if len(rows) >= limit:
            raise ValidationError(
                _("The file has more than %(limit)s rows; split it into smaller files.")
                % {"limit": limit}
            )
        raw = {key: value for key, value in zip(keys, values, strict=False) if key is not None}
        raw, too_long = _shorten(raw, max_chars)
        row = ParsedRow(number=number)
        _check_row(row, raw, version, credit_value, now)
        for column in too_long:  # after the row's other errors, so this one is shown
            row.error(
                column,
                _("This value is longer than %(limit)s characters.") % {"limit": max_chars},
            )
        if not allow_repeats:
            _check_repeats(row, seen)
        rows.append(row)
    if not rows:
        raise ValidationError(_("The file has no rows under its header."))
    return rows
