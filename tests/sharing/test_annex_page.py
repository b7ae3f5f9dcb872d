"""The public badge page shows the EU micro-credential elements the signed credential
carries, in words a layperson reads, in English and Chinese; the section is part of the
skeleton shared by awards of one content, and absent elements are simply not shown."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from achievements import services as achievement_services
from badges.models import Award
from tests.badges.helpers import award
from tests.badges.test_annex_credential import full_micro
from tests.base import Cast
from tests.frameworks.helpers import draft_micro, place, reference

pytestmark = pytest.mark.django_db


def _section(html: str) -> str:
    match = re.search(r"<section class=\"annex\".*?</section>", html, re.S)
    assert match, "no micro-credential section"
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))))


def _page(client: Client, found: Award, language: str = "en") -> str:
    response = client.get(f"/credentials/{found.pk}", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return str(response.content.decode())


def test_the_badge_page_lists_every_element_in_plain_words(cast: Cast, client: Client) -> None:
    issued = award(cast.awarder, full_micro(cast))

    text = _section(_page(client, issued))

    assert "About this micro-credential" in text
    assert "Learning outcomes Cleans a data set. Explains a chart to a manager." in text
    assert "Workload 150 hours (6 ECTS credits)" in text
    assert "Level EQF 5" in text
    assert "Assessment Portfolio" in text
    assert "Participation Online" in text
    assert "Identity verification Yes: supervised online, identity checked" in text
    assert "Quality assurance Internal quality assurance (ESG Part 1)" in text
    assert "Prerequisites Secondary school mathematics" in text
    assert "Can be combined with Other credentials: it counts towards a larger one" in text


def test_a_chinese_reader_reads_chinese_labels(cast: Cast, client: Client) -> None:
    issued = award(cast.awarder, full_micro(cast), email="li@example.com", language="zh-Hans")

    text = _section(_page(client, issued, "zh-Hans"))

    assert "关于此微证书" in text
    assert "学习成果 清理数据集。 向经理解释图表。" in text
    assert "150 小时（6 " in text
    assert "级别 EQF 5" in text
    assert "考核 作品集" in text
    assert "参与形式 线上" in text
    assert "身份核验 已核验：线上监考并核验身份" in text
    assert "可组合 其他凭证：可累积计入更大的资历" in text


def test_the_section_is_in_the_shared_skeleton_and_each_award_keeps_its_own_parts(
    cast: Cast, client: Client
) -> None:
    version = full_micro(cast)
    first = award(cast.awarder, version, email="a@example.com", name="Ana")
    second = award(cast.awarder, version, email="b@example.com", name="Ben")

    one, two = _page(client, first), _page(client, second)

    assert _section(one) == _section(two)
    assert str(first.pk) in one and str(second.pk) not in one
    assert str(second.pk) in two


def test_absent_elements_are_not_shown_and_without_any_there_is_no_section(
    cast: Cast, client: Client
) -> None:
    reference()
    sparse = draft_micro(cast.editor, cast.issuer, "sparse")
    place(
        cast.editor,
        sparse,
        levels=(),
        credits=(),
        notional_hours=None,
        outcomes_en="",
        assessment_type="",
        participation="blended",
        quality_assurance="",
    )
    version = achievement_services.publish_version(actor=cast.editor, version=sparse)
    text = _section(_page(client, award(cast.awarder, version)))
    assert "Participation Blended" in text
    for label in ("Workload", "Level", "Assessment", "Prerequisites", "Identity verification"):
        assert label not in text

    bare = draft_micro(cast.editor, cast.issuer, "bare")
    plain = award(
        cast.awarder, achievement_services.publish_version(actor=cast.editor, version=bare)
    )
    assert 'class="annex"' not in _page(client, plain)
