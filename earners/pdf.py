"""PDF certificates (one badge, A4, Chinese and English) and collection transcripts.

Drawn with fpdf2 and Noto Sans CJK (Debian ``fonts-noto-cjk``), so Chinese text renders
everywhere. Without the system font (``INSIGNIA_PDF_FONT``/``INSIGNIA_PDF_FONT_BOLD`` override
it), the subset bundled in ``static/fonts`` (GB 2312, OFL) is used: a PDF never fails for a
missing font. Labels are bilingual; values (state, institution) are in the badge's language.
A certificate carries the issuer's colour and logo, a QR code to the verify page, and the
exact signed credential as an embedded file (PDF 1.7 §7.11.4), so the PDF alone is enough to
check the badge.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import segno
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.http import urlencode
from fpdf import FPDF

from badges import baked
from badges.credentials import absolute
from badges.models import Award
from badges.state import STATE_LABELS, award_state
from frameworks.catalogue.selectors import placement_of
from verification import annex

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/noto-cjk"))
FONT_FILE = "NotoSansCJK-Regular.ttc"
BOLD_FILE = "NotoSansCJK-Bold.ttc"
SC_INDEX = 2  # Noto Sans CJK collections: JP, KR, SC, TC, HK — SC is the third face
# Noto Sans CJK SC cut to GB 2312 (see static/fonts/OFL.txt): about 1.6 MB per weight.
BUNDLED_DIR = Path(settings.BASE_DIR) / "static" / "fonts"
BUNDLED = {FONT_FILE: "NotoSansSC-Regular-GB2312.otf", BOLD_FILE: "NotoSansSC-Bold-GB2312.otf"}
FAMILY = "NotoSansSC"
# fontTools logs every subsetting step at INFO; keep the server log readable.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def _font(name: str) -> tuple[Path, int]:
    """The font file for ``name`` and its face number: the configured file, else the system's
    Noto Sans CJK, else the bundled subset (always there)."""
    configured = (
        settings.INSIGNIA_PDF_FONT_BOLD if name == BOLD_FILE else settings.INSIGNIA_PDF_FONT
    )
    candidates = [Path(configured)] if configured else []
    candidates += [folder / name for folder in FONT_DIRS]
    for path in candidates:
        if path.is_file():
            return path, SC_INDEX if path.suffix.lower() == ".ttc" else 0
    return BUNDLED_DIR / BUNDLED[name], 0


def _rgb(colour: str) -> tuple[int, int, int]:
    text = colour.lstrip("#")
    if len(text) != 6:
        return (31, 78, 121)
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))


def _document() -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    for style, name in (("", FONT_FILE), ("B", BOLD_FILE)):
        path, face = _font(name)
        pdf.add_font(FAMILY, style, str(path), collection_font_number=face)
    pdf.set_creator("Insignia")
    return pdf


def verify_url(award: Award) -> str:
    document = json.loads(award.credential_json)
    target = str(document.get("id") or absolute(reverse("credential", args=[award.pk])))
    return absolute(reverse("verify")) + "?" + urlencode({"url": target})


def readable_url(url: str) -> str:
    """The QR code's target as people read it: no percent-encoding, no scheme."""
    return unquote(url).removeprefix("https://").removeprefix("http://")


def _is_zh(award: Award) -> bool:
    return award.language.lower().startswith("zh")


def _bilingual(label: Promise, between: str = " · ") -> str:
    """A translatable label in Chinese and English (``有效 · Valid``), like the PDF's labels."""
    with translation.override("zh-hans"):
        chinese = str(label)
    with translation.override("en"):
        english = str(label)
    return english if chinese == english else f"{chinese}{between}{english}"


def _institution_name(award: Award) -> str:
    institution = award.issuer.institution
    if _is_zh(award):
        return institution.name_zh or institution.name_en
    return institution.name_en


def credits_text(award: Award, credits: object) -> str:
    """The credits with their framework's unit, in both languages: ``10 NZQCF credits /
    10 新西兰资历学分``; without a placement, ``10 credits / 学分``."""
    placement = placement_of(award.achievement_version)
    values = list(placement.credits.all()) if placement is not None else []
    if not values:
        return f"{credits} credits / 学分"
    parts = []
    for value in values:
        system = value.credit_system
        amount = f"{value.amount.normalize():f}"
        english = f"{amount} {system.unit_en}"
        chinese = f"{amount} {system.unit_zh}" if system.unit_zh else ""
        parts.append(f"{english} / {chinese}" if chinese and chinese != english else english)
    return "; ".join(parts)


def _qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


def _centered(pdf: FPDF, text: str, size: float, *, bold: bool = False, gap: float = 2) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.multi_cell(0, size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(gap)


def _other_language_name(award: Award) -> str:
    version = award.achievement_version
    other = "en" if award.language.startswith("zh") else "zh-Hans"
    name = version.text("name", other).strip()
    return name if name and name != version.text("name", award.language).strip() else ""


def annex_facts(award: Award, document: dict[str, Any]) -> list[tuple[str, str]]:
    """The credential's EU micro-credential elements (``verification.annex``): bilingual
    labels like the PDF's others (``学习量 · Workload``), values in the badge's language."""
    data = annex.claims_of(document)
    labels: dict[str, dict[str, str]] = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            labels[language] = {row.key: row.label for row in annex.rows(data)}
    with translation.override("zh-hans" if _is_zh(award) else "en"):
        shown = annex.rows(data)
    found = []
    for row in shown:
        chinese, english = labels["zh-hans"][row.key], labels["en"][row.key]
        label = english if chinese == english else f"{chinese} · {english}"
        value = "\n".join(f"• {item}" for item in row.items) if row.items else row.value
        found.append((label, value[:600]))
    return found


def certificate(award: Award) -> bytes:
    """One A4 page: issuer branding, badge, holder, dates, skills, QR code; the signed
    credential attached as ``credential.json``."""
    document: dict[str, Any] = json.loads(award.credential_json)
    subject = document.get("credentialSubject", {})
    achievement = subject.get("achievement", {})
    institution = award.issuer.institution
    pdf = _document()
    pdf.set_title(str(achievement.get("name", "")))
    pdf.set_lang("zh-CN" if award.language.startswith("zh") else "en")
    pdf.add_page()
    colour = _rgb(institution.brand_colour)
    pdf.set_fill_color(*colour)
    pdf.rect(0, 0, 210, 28, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_xy(15, 8)
    pdf.set_font(FAMILY, "B", 15)
    pdf.cell(0, 7, str(document.get("issuer", {}).get("name") or award.issuer.name))
    pdf.set_xy(15, 16)
    pdf.set_font(FAMILY, "", 10)
    pdf.cell(0, 6, _institution_name(award))
    logo = institution.logo
    if logo is not None and logo.content_type in ("image/png", "image/jpeg"):
        pdf.image(io.BytesIO(bytes(logo.data)), x=165, y=4, w=35, h=20, keep_aspect_ratio=True)
    pdf.set_text_color(20, 20, 20)
    pdf.set_y(38)
    _centered(pdf, "证书 · Certificate", 13, gap=4)
    image = baked.source_image(award, "png").data
    if image[:8] == b"\x89PNG\r\n\x1a\n":
        pdf.image(io.BytesIO(image), x=80, y=pdf.get_y(), w=50, h=50)
        pdf.set_y(pdf.get_y() + 54)
    _centered(pdf, str(achievement.get("name", "")), 22, bold=True)
    other = _other_language_name(award)
    if other:
        _centered(pdf, other, 14)
    if award.recipient_name.strip():
        _centered(pdf, "授予 · Awarded to", 10, gap=1)
        _centered(pdf, award.recipient_name.strip(), 18, bold=True, gap=4)
    description = str(achievement.get("description", ""))
    if description:
        pdf.set_font(FAMILY, "", 10)
        pdf.set_x(25)
        pdf.multi_cell(160, 5, description[:800], align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    facts = [
        ("颁发日期 · Issued", f"{award.valid_from:%Y-%m-%d}"),
        (
            "有效期至 · Valid until",
            f"{award.valid_until:%Y-%m-%d}" if award.valid_until else "—",
        ),
        ("状态 · Status", _bilingual(STATE_LABELS[award_state(award).state])),
    ]
    tags = [str(t) for t in achievement.get("tag", []) if isinstance(t, str)]
    if tags:
        facts.append(("技能 · Skills", ", ".join(tags)[:200]))
    credits = achievement.get("creditsAvailable")
    if credits:
        earned = document.get("credentialSubject", {}).get("creditsEarned")
        if isinstance(earned, int | float) and earned != credits:
            shown = f"{earned} / {credits_text(award, credits)}"
        else:
            shown = credits_text(award, credits)
        facts.append(("学分 · Credits", shown))
    facts.extend(annex_facts(award, document))
    pdf.set_font(FAMILY, "", 10)
    for label, value in facts:
        pdf.set_x(40)
        pdf.set_font(FAMILY, "B", 10)
        pdf.cell(50, 6, label)
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(90, 6, value, new_x="LMARGIN", new_y="NEXT")
    url = verify_url(award)
    top = max(pdf.get_y() + 6, 220.0)
    if top > 250:
        pdf.add_page()
        top = 30
    pdf.image(io.BytesIO(_qr_png(url)), x=15, y=top, w=38, h=38)
    pdf.set_xy(58, top + 4)
    pdf.set_font(FAMILY, "B", 10)
    pdf.cell(0, 5, "扫码验证 · Scan to verify", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(58)
    pdf.set_font(FAMILY, "", 8)
    pdf.multi_cell(137, 4, readable_url(url), new_x="LMARGIN", new_y="NEXT", link=url)
    pdf.set_x(58)
    pdf.multi_cell(
        137,
        4,
        "本 PDF 内附已签名的 Open Badges 3.0 凭证 (credential.json)。"
        " The signed Open Badges 3.0 credential is attached to this PDF (credential.json).",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.embed_file(
        bytes=award.credential_json.encode("utf-8"),
        basename="credential.json",
        mime_type="application/vc+ld+json",
        desc="Signed Open Badges 3.0 credential",
    )
    return bytes(pdf.output())


def transcript(title: str, owner_name: str, awards: Iterable[Award]) -> bytes:
    """A printable list of the badges in a collection, each with its verify link."""
    pdf = _document()
    pdf.set_title(title)
    pdf.add_page()
    _centered(pdf, "成绩单 · Transcript", 12, gap=2)
    _centered(pdf, title, 20, bold=True)
    if owner_name:
        _centered(pdf, owner_name, 13, gap=6)
    for award in awards:
        document = json.loads(award.credential_json)
        achievement = document.get("credentialSubject", {}).get("achievement", {})
        state = award_state(award)
        pdf.set_font(FAMILY, "B", 12)
        pdf.multi_cell(0, 6, str(achievement.get("name", "")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 9)
        issuer = str(document.get("issuer", {}).get("name") or award.issuer.name)
        state_text = _bilingual(STATE_LABELS[state.state], " / ")
        line = f"{issuer} · {award.valid_from:%Y-%m-%d} · {state_text}"
        credits = achievement.get("creditsAvailable")
        if credits:
            line += f" · {credits_text(award, credits)}"
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(60, 60, 60)
        url = verify_url(award)
        pdf.multi_cell(0, 4, readable_url(url), new_x="LMARGIN", new_y="NEXT", link=url)
        pdf.set_text_color(20, 20, 20)
        pdf.ln(4)
    return bytes(pdf.output())


# Drawing a page embeds a subset of a large CJK font (about 2 s of CPU), and the transcript
# is public behind a collection link; each PDF is kept for a while, keyed by everything drawn.
PDF_CACHE_SECONDS = 600


def _key(kind: str, parts: list[str]) -> str:
    text = "|".join([kind, translation.get_language() or "", *parts])
    return "insignia:pdf:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _facts(award: Award) -> list[str]:
    institution = award.issuer.institution
    state = award_state(award)
    return [
        str(award.pk),
        str(state.state),
        institution.brand_colour,
        str(institution.logo_id),
        award.recipient_name,
        institution.name_en,
        institution.name_zh,
        award.language,
    ]


def cached_certificate(award: Award) -> bytes:
    key = _key("certificate", _facts(award))
    found = cache.get(key)
    if isinstance(found, bytes):
        return found
    data = certificate(award)
    cache.set(key, data, PDF_CACHE_SECONDS)
    return data


def cached_transcript(title: str, owner_name: str, awards: list[Award]) -> bytes:
    parts = [title, owner_name]
    for award in awards:
        parts.extend(_facts(award))
    key = _key("transcript", parts)
    found = cache.get(key)
    if isinstance(found, bytes):
        return found
    data = transcript(title, owner_name, awards)
    cache.set(key, data, PDF_CACHE_SECONDS)
    return data
