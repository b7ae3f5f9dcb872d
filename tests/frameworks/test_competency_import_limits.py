"""A competency file that the parsers cannot hold is a format error, not a 500:
an ESCO CSV value past the csv module's field limit, and JSON nested past the recursion
limit."""

from __future__ import annotations

import pytest

from frameworks.competencies import importers


def test_a_10_mb_csv_value_is_a_format_error() -> None:
    content = b"conceptUri,preferredLabel\nhttp://data.europa.eu/esco/skill/1," + b"x" * 10_000_000

    with pytest.raises(importers.ImportFormatError, match="the CSV cannot be read"):
        importers.parse(content, "skills_en.csv")


def test_deeply_nested_json_is_a_format_error() -> None:
    content = b'{"@graph": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    with pytest.raises(importers.ImportFormatError, match="nested too deeply"):
        importers.parse(content, "skills.json")
