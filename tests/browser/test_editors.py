"""Issue #7 editors in a real browser: staff build their own competency framework with two
items, align a micro-credential to one of them with the search-as-you-type box, and build a
"2 of 3" pathway in the tree editor; the pages are then read in Chinese."""

from __future__ import annotations

import pytest
from django.test import override_settings
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from badges import selectors as badge_selectors
from frameworks.catalogue.services import load_reference_data
from frameworks.models import CompetencyItem, Pathway
from issuers.models import Role
from tests.badges.helpers import make_achievement, make_published
from tests.base import PASSWORD, add_member, make_institution, make_issuer, make_user
from tests.browser.conftest import new_context, screenshot
from tests.browser.test_staff_console import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

EDITOR = ("editor@editors.example", PASSWORD)


def build_framework(page: Page, server: LiveServer, slug: str) -> None:
    page.goto(f"{server.url}/manage/{slug}/frameworks/")
    page.get_by_role("link", name="Create your own framework").click()
    page.get_by_label("Name (English)").fill("Poly Data Skills")
    page.get_by_label("Name (Chinese)").fill("理工数据技能")
    page.get_by_label("Version").fill("2026")
    page.get_by_role("button", name="Create framework").click()
    expect(page.get_by_text("The framework was created. Now add its items.")).to_be_visible()
    for code, english, chinese in (
        ("DS.1", "Cleans a messy data set", "清理杂乱的数据集"),
        ("DS.2", "Explains a chart to a non-specialist", "向非专业人士解释图表"),
    ):
        page.get_by_label("Code").fill(code)
        page.get_by_label("Statement (English)").fill(english)
        page.get_by_label("Statement (Chinese)").fill(chinese)
        page.get_by_role("button", name="Add item").click()
        expect(page.get_by_text(f"Added “{code}”.")).to_be_visible()
    rows = page.locator("table.editor-items tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Cleans a messy data set")
    expect(rows.nth(1)).to_contain_text("Explains a chart")


def test_staff_build_a_framework_align_a_badge_and_build_a_two_of_three_pathway(
    live_server: LiveServer, browser: Browser
) -> None:
    load_reference_data()
    owner = make_user("owner@editors.example", "Olive Owner")
    institution = make_institution("editors-poly", owner, "Editors Polytechnic", "编辑理工学院")
    issuer = make_issuer(institution, "editors-poly-data", owner)
    editor = make_user(EDITOR[0], "Eddie Editor")
    add_member(editor, institution, Role.EDITOR)
    parts = [
        make_published(owner, issuer, slug, name_en=en, name_zh=zh)
        for slug, en, zh in (
            ("data-cleaning", "Data Cleaning", "数据清理"),
            ("data-charts", "Data Charts", "数据图表"),
            ("data-stories", "Data Stories", "数据叙事"),
        )
    ]
    make_published(
        owner, issuer, "data-certificate", name_en="Data Certificate", name_zh="数据证书"
    )
    draft = badge_selectors.draft_of(
        make_achievement(owner, issuer, "data-wrangling", name_en="Data Wrangling")
    )
    assert draft is not None

    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        context = new_context(browser)
        page = context.new_page()
        sign_in(page, live_server, EDITOR)
        build_framework(page, live_server, institution.slug)
        screenshot(page, "issue7-editor-framework-en")

        # Align the draft micro-credential to DS.1 with the search-as-you-type box.
        page.goto(
            f"{live_server.url}/manage/{institution.slug}/achievements/"
            f"{draft.achievement_id}/placement/"
        )
        page.get_by_label("Search your competency frameworks").fill("messy")
        page.get_by_role("button", name="Cleans a messy data set").click()
        expect(page.locator("#competencies-selected")).to_contain_text("Poly Data Skills")
        page.get_by_role("button", name="Save placement").click()
        expect(page.get_by_text("The placement was saved.")).to_be_visible()
        item = CompetencyItem.objects.get(code="DS.1")
        assert draft.placement.competencies.get().item == item

        # The item's URI opens its public page.
        page.goto(item.uri)
        expect(page.get_by_role("heading", name="DS.1 · Cleans a messy data set")).to_be_visible()
        screenshot(page, "issue7-competency-item-public-en")

        # A "2 of 3" pathway, built with the editor's buttons.
        page.goto(f"{live_server.url}/manage/{institution.slug}/pathways/")
        page.get_by_role("link", name="New pathway").click()
        page.get_by_label("Name (English)").fill("Data analyst pathway")
        page.get_by_label("Name (Chinese)").fill("数据分析路径")
        page.get_by_label("Credential awarded on completion").select_option(
            label="Data Certificate (data-certificate)"
        )
        top = page.locator("fieldset#g")
        top.get_by_label("Rule").select_option("at_least_n")
        top.get_by_label("N (how many)").fill("2")
        for part in parts:
            page.locator("#g-add").select_option(str(part.achievement_id))
            page.locator("fieldset#g").get_by_role("button", name="Add", exact=True).click()
            expect(page.locator("fieldset#g .tree-reqs")).to_contain_text(part.name_en)
        preview = page.locator("aside.preview")
        expect(preview).to_contain_text("At least 2 of:")
        expect(preview).to_contain_text("以下至少 2 项：")
        page.get_by_role("button", name="Save pathway").click()
        expect(page.get_by_text("The pathway was saved.")).to_be_visible()
        screenshot(page, "issue7-editor-pathway-en")
        pathway = Pathway.objects.get(institution=institution)
        root = pathway.groups.get()
        assert (root.rule, root.required_count, root.requirements.count()) == ("at_least_n", 2, 3)
        assert pathway.target.slug == "data-certificate"

        # "At least 3 of" with two items left is explained, not saved.
        page.locator("fieldset#g").get_by_role("button", name="Remove Data Stories").click()
        page.locator("fieldset#g").get_by_label("N (how many)").fill("3")
        page.get_by_role("button", name="Save pathway").click()
        expect(
            page.get_by_text("The top group: “at least 3 of” has only 2 items to choose from.")
        ).to_be_visible()
        assert pathway.groups.get().requirements.count() == 3
        screenshot(page, "issue7-editor-pathway-refused-en")
        edit_url = page.url
        context.close()

        # The same pages in Chinese.
        context = new_context(browser, locale="zh-CN")
        page = context.new_page()
        sign_in_zh(page, live_server)
        page.goto(
            f"{live_server.url}/manage/{institution.slug}/frameworks/competencies/"
            f"{item.framework_id}/"
        )
        expect(page.get_by_role("heading", name="理工数据技能")).to_be_visible()
        expect(page.get_by_text("清理杂乱的数据集")).to_be_visible()
        screenshot(page, "issue7-editor-framework-zh")
        page.goto(edit_url)
        expect(page.locator("aside.preview")).to_contain_text("授予：数据证书")
        screenshot(page, "issue7-editor-pathway-zh")
        context.close()


def sign_in_zh(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/manage/")
    page.locator("input[type=email]").fill(EDITOR[0])
    page.locator("input[type=password]").fill(EDITOR[1])
    page.locator("input[type=password]").press("Enter")
    page.wait_for_url(f"{server.url}/manage/editors-poly/")
