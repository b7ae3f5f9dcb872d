"""Fuzzing the bulk-award upload parser (research S-30): ``awarding.bulk.parse.parse_upload``
over ``awarding.bulk.readers`` and ``common.spreadsheets``.

Generated and damaged CSV and XLSX files (``tests/fuzz/sheets.py``), under the default
bounds or tight ones (so that every bound is crossed), may only give rows (each problem a
row error naming its column) or the one documented refusal, ``ValidationError``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from hypothesis import strategies as st

from achievements import services as achievement_services
from awarding.bulk.parse import COLUMN_LABELS, ParsedRow, parse_upload
from badges.models import AchievementVersion
from tests.base import Cast
from tests.frameworks.helpers import draft_micro, place, reference
from tests.fuzz.engine import Tally, fuzz
from tests.fuzz.sheets import csv_uploads, xlsx_uploads

pytestmark = pytest.mark.django_db

#: Bounds small enough for generated files to cross each of them.
TIGHT = {
    "BULK_MAX_ROWS": 12,
    "BULK_MAX_LINES": 20,
    "BULK_MAX_COLUMNS": 6,
    "BULK_MAX_FIELD_CHARS": 64,
    "BULK_MAX_UPLOAD_BYTES": 64 * 1024,
    "BULK_XLSX_MAX_UNCOMPRESSED_BYTES": 1 << 20,
    "BULK_XLSX_MAX_RATIO": 20,
    "BULK_XLSX_MAX_MEMBERS": 12,
    "BULK_XLSX_MAX_SHARED_STRINGS": 100,
    "BULK_XLSX_MAX_CELLS": 200,
}


@pytest.fixture
def version(cast: Cast) -> AchievementVersion:
    """A published micro-credential worth 15 credits, so the credits column is checked too."""
    reference()
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, credits=(("nzqcf-credit", "15"),), notional_hours=150)
    return achievement_services.publish_version(actor=cast.editor, version=draft)


def _check_rows(rows: list[ParsedRow]) -> None:
    assert rows, "parse_upload returned no rows without refusing the file"
    for row in rows:
        for error in row.errors:
            assert error["column"] in COLUMN_LABELS, error
            assert isinstance(str(error["message"]), str) and error["message"]


def _parser(version: AchievementVersion) -> Any:
    def check(tally: Tally, example: tuple[tuple[bytes, str], bool]) -> None:
        (data, name), tight = example
        with override_settings(**(TIGHT if tight else {})):
            try:
                rows = tally.run((name, data), lambda: parse_upload(data, name, version))
            except ValidationError as refusal:
                tally.outcome(f"refused: {refusal.code or refusal.messages[0][:40]}")
                assert refusal.messages and all(str(m) for m in refusal.messages)
                return
        _check_rows(rows)
        with_errors = sum(1 for row in rows if row.errors)
        tally.outcome("rows" if not with_errors else "rows with errors")

    return check


def test_bulk_csv(version: AchievementVersion) -> None:
    tally = fuzz("bulk_csv", st.tuples(csv_uploads(), st.booleans()), _parser(version))
    assert tally.examples > 0


def test_bulk_xlsx(version: AchievementVersion) -> None:
    tally = fuzz("bulk_xlsx", st.tuples(xlsx_uploads(), st.booleans()), _parser(version))
    assert tally.examples > 0
