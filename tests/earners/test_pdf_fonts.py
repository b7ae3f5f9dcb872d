"""PDF certificates and transcripts without the system CJK font, and in Chinese (D7, D21).

The text drawn is read back from the PDF's ToUnicode maps: every character the PDF shows
has a glyph in the embedded font and a mapping back to its code point.
"""

from __future__ import annotations

import re
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from badges.models import Award
from earners import pdf, services
from frameworks.models import CreditSystem, CreditValue, Placement
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.earners.helpers import make_learner

pytestmark = pytest.mark.django_db


def shown_text(data: bytes) -> set[str]:
    """The characters the PDF can show, from the ToUnicode maps of its embedded fonts."""
    found: set[str] = set()
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            text = zlib.decompress(stream).decode("latin-1")
        except zlib.error:
            text = stream.decode("latin-1")  # fpdf2 writes its ToUnicode maps uncompressed
        if "beginbfchar" not in text and "beginbfrange" not in text:
            continue
        for code in re.findall(r"<[0-9A-Fa-f]{4}> <([0-9A-Fa-f]{4,8})>", text):
            found.add(bytes.fromhex(code).decode("utf-16-be"))
    return found


@pytest.fixture
def no_system_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without fonts-noto-cjk: the font lookup sees only an empty folder."""
    monkeypatch.setattr(pdf, "FONT_DIRS", (tmp_path,))


@pytest.fixture
def chinese(cast: Cast) -> Award:
    cast.institution.name_zh = "示范职业学院"
    cast.institution.save()
    version = make_published(cast.editor, cast.issuer)
    return award(cast.awarder, version, email="li@example.com", name="李伟", language="zh-Hans")


def test_a_certificate_without_the_system_font_uses_the_bundled_one(
    client: Client, chinese: Award, no_system_fonts: None
) -> None:
    client.force_login(make_learner("li@example.com"))

    response = client.get(f"/backpack/badges/{chinese.pk}/certificate.pdf")

    assert response.status_code == 200
    shown = shown_text(response.content)
    assert {"李", "伟", "证", "书"} <= shown


def test_a_transcript_without_the_system_font_still_downloads(
    client: Client, chinese: Award, no_system_fonts: None
) -> None:
    learner = make_learner("li@example.com")
    collection = services.create_collection(user=learner, name="求职", awards=[chinese])

    response = client.get(f"/shared/{collection.token}/transcript.pdf")

    assert response.status_code == 200
    assert {"求", "职", "成", "绩"} <= shown_text(response.content)


def test_a_configured_font_that_is_missing_falls_back_too(
    client: Client, chinese: Award, settings: Settings, tmp_path: Path, no_system_fonts: None
) -> None:
    settings.INSIGNIA_PDF_FONT = str(tmp_path / "gone.ttf")
    settings.INSIGNIA_PDF_FONT_BOLD = str(tmp_path / "gone-bold.ttf")
    client.force_login(make_learner("li@example.com"))

    response = client.get(f"/backpack/badges/{chinese.pk}/certificate.pdf")

    assert response.status_code == 200
    assert "李" in shown_text(response.content)


def test_a_chinese_certificate_names_the_institution_and_state_in_chinese(
    client: Client, chinese: Award
) -> None:
    client.force_login(make_learner("li@example.com"))

    data = client.get(f"/backpack/badges/{chinese.pk}/certificate.pdf").content

    shown = shown_text(data)
    assert set("示范职业学院") <= shown  # the institution's Chinese name
    assert set("有效") <= shown  # "Valid" in Chinese beside the English


def test_the_printed_verify_link_is_readable_not_percent_encoded(chinese: Award) -> None:
    url = pdf.verify_url(chinese)
    assert "%3A%2F%2F" in url  # the QR code's target is a proper query string

    printed = pdf.readable_url(url)

    assert "%" not in printed
    assert printed.endswith(f"/verify?url={chinese.credential['id']}")
    assert not printed.startswith("http")


def test_the_transcript_names_the_credit_framework(chinese: Award) -> None:
    system = CreditSystem.objects.create(
        code="nzqcf-credit",
        name_en="NZQCF credit",
        unit_en="NZQCF credits",
        unit_zh="新西兰资历学分",
        hours_basis=CreditSystem.HoursBasis.NOTIONAL,
    )
    placement = Placement.objects.create(version=chinese.achievement_version)
    CreditValue.objects.create(placement=placement, credit_system=system, amount=Decimal(10))

    text = pdf.credits_text(chinese, 10)

    assert text == "10 NZQCF credits / 10 新西兰资历学分"
