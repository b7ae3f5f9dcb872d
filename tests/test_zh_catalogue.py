"""The Chinese catalogue reads as one text (issue 20 item D20 of the December journeys review).

Every simplified-Chinese message uses full-width punctuation next to Chinese (never ASCII
``: , ; ( ) ! ?`` touching a Chinese character, nor ``: `` inside Chinese text), and
one word for each thing: 颁发单位 for an issuer (never 颁发机构), 凭证 for a signed credential
(never 已签名证书, and 证书 only where the English says "certificate": the PDF certificate, a
signing certificate), 领英 for LinkedIn.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, pgettext

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CJK = "\u3400-\u9fff\u3000-\u303f\uff00-\uffef"
HAN = re.compile("[\u3400-\u9fff]")
# ASCII punctuation touching Chinese text (with or without spaces between), e.g. 颁发日期: x.
ASCII_NEXT_TO_CJK = re.compile(rf"[{CJK}]\s*[:,;()!?]|[,;()!?]\s*[{CJK}]|:\s+[{CJK}]")
# What may keep ASCII punctuation inside Chinese text: quoted examples (“staff: awarder”),
# placeholders (%(name)s, {name}) and identifier schemes (did:, urn:, https://).
LITERALS = re.compile(r"“[^”]*”|%\(\w+\)[sd]|\{\w*\}|\b(?:did|urn|https?|mailto):")
FORBIDDEN = {
    "颁发机构": "an issuer is 颁发单位",
    "已签名证书": "a signed credential is 已签名凭证",
    "LinkedIn": "LinkedIn is 领英 (the English name may follow it in brackets)",
}


def _entries() -> Iterator[tuple[polib.POEntry, str]]:
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.obsolete or entry.fuzzy:
            continue
        texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in texts:
            if HAN.search(text):
                yield entry, text


def punctuation_flaws(text: str) -> list[str]:
    return [m.group(0) for m in ASCII_NEXT_TO_CJK.finditer(LITERALS.sub(" ", text))]


def wording_flaws(msgid: str, text: str) -> list[str]:
    flaws = [
        why
        for word, why in FORBIDDEN.items()
        if word in text and not (word == "LinkedIn" and "领英（LinkedIn）" in text)
    ]
    if re.search("(?<!微)证书", text) and "certificate" not in msgid.lower():
        flaws.append("证书 is only a certificate; a credential is 凭证, a micro-credential 微证书")
    return flaws


def test_the_checks_catch_what_a_reader_would_notice() -> None:
    assert punctuation_flaws("颁发日期: %(date)s") != []
    assert punctuation_flaws("证书(PDF)") != []
    assert punctuation_flaws("学分,等级") != []
    assert punctuation_flaws("颁发日期：%(date)s") == []
    assert punctuation_flaws("请写出取值，例如“staff: awarder”。") == []
    assert punctuation_flaws("标识应以 did: 或 urn: 开头。") == []
    assert wording_flaws("Issued by", "颁发机构") != []
    assert wording_flaws("Signed credential (JSON)", "已签名证书（JSON）") != []
    assert wording_flaws("Open the credential", "打开证书") != []
    assert wording_flaws("Certificate (PDF, A4)", "证书（PDF，A4）") == []
    assert wording_flaws("LinkedIn", "LinkedIn") != []
    assert wording_flaws("LinkedIn organisation ID", "领英（LinkedIn）组织 ID") == []


def test_chinese_messages_use_full_width_punctuation() -> None:
    entries = list(_entries())
    assert len(entries) > 1000, "the catalogue was not read"
    flawed = {
        entry.msgid[:60]: found for entry, text in entries if (found := punctuation_flaws(text))
    }
    assert flawed == {}


def test_chinese_messages_use_one_word_for_each_thing() -> None:
    flawed = {
        entry.msgid[:60]: found
        for entry, text in _entries()
        if (found := wording_flaws(entry.msgid, text))
    }
    assert flawed == {}


@pytest.mark.parametrize(
    ("context", "chinese"),
    [
        ("award history", "已颁发"),
        ("number of awards", "已颁发"),
        ("the state of a course award", "已颁发"),
    ],
)
def test_awarded_as_an_action_is_not_a_date(context: str, chinese: str) -> None:
    with translation.override("zh-hans"):
        assert gettext("Awarded") == "颁发日期"  # the column of dates
        assert pgettext(context, "Awarded") == chinese
        assert gettext("Signed credential (JSON)") == "已签名凭证（JSON）"
        assert gettext("Issuer") == "颁发单位"


def test_upload_limits_are_told_in_the_readers_language() -> None:
    """The logo and badge-image fields are built when their module is imported; their help
    text is still translated per request (journeys review D19)."""
    from issuers.forms import BadgeImageField, ImageField

    badge, logo = BadgeImageField(), ImageField()
    kb, px = settings.INSIGNIA_MAX_IMAGE_BYTES // 1024, settings.INSIGNIA_MAX_IMAGE_PIXELS
    with translation.override("zh-hans"):
        assert str(badge.help_text) == f"PNG 或 SVG 格式，不超过 {kb} KB，每边不超过 {px} 像素。"
        assert str(logo.help_text) == f"PNG 或 JPEG 格式，不超过 {kb} KB，每边不超过 {px} 像素。"
    with translation.override("en"):
        assert str(badge.help_text) == f"PNG or SVG, at most {kb} KB and {px} pixels per side."
