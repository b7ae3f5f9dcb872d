"""The console editor of an institution's own competency framework: items with URIs of their
own, hierarchy, order, retirement; alignment search and OB 3.0 export like imported items."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from achievements import services as achievement_services
from badges import selectors as badge_selectors
from badges.models import Achievement, AchievementVersion
from frameworks.competencies import services as competency_services
from frameworks.models import CompetencyFramework, CompetencyItem
from tests.badges.helpers import award, make_achievement
from tests.base import Cast
from tests.frameworks.helpers import ESCO_CSV, draft_micro, place

pytestmark = pytest.mark.django_db


def make_framework(cast: Cast) -> tuple[CompetencyFramework, CompetencyItem, CompetencyItem]:
    framework = competency_services.create_competency_framework(
        actor=cast.editor,
        institution=cast.institution,
        title_en="Poly Data Skills",
        title_zh="理工数据技能",
        version="2026",
    )
    cleaning = competency_services.add_competency_item(
        actor=cast.editor,
        framework=framework,
        code="DS.1",
        label_en="Cleans a messy data set",
        label_zh="清理杂乱的数据集",
    )
    charts = competency_services.add_competency_item(
        actor=cast.editor, framework=framework, code="DS.2", label_en="Explains a chart"
    )
    return framework, cleaning, charts


def framework_url(cast: Cast, framework: CompetencyFramework, name: str = "") -> str:
    suffix = f"_{name}" if name else ""
    return reverse(
        f"manage:competency_framework{suffix}", args=[cast.institution.slug, framework.pk]
    )


def item_url(cast: Cast, item: CompetencyItem, name: str) -> str:
    return reverse(
        f"manage:competency_item_{name}", args=[cast.institution.slug, item.framework_id, item.pk]
    )


def published_with(cast: Cast, item: CompetencyItem) -> AchievementVersion:
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, levels=(), credits=(), competencies=[item])
    return achievement_services.publish_version(actor=cast.editor, version=draft)


def test_an_editor_builds_a_framework_whose_uris_open_public_pages(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.editor)
    created = client.post(
        reverse("manage:competency_framework_create", args=[cast.institution.slug]),
        {"title_en": "Poly Data Skills", "title_zh": "理工数据技能", "version": "2026"},
        follow=True,
    )
    assert "The framework was created. Now add its items." in created.content.decode()
    framework = CompetencyFramework.objects.get(owner=cast.institution, source="custom")
    assert framework.uri.startswith(settings.INSIGNIA_BASE_URL + "/competencies/")

    add = reverse("manage:competency_item_create", args=[cast.institution.slug, framework.pk])
    client.post(
        add, {"code": "DS.1", "label_en": "Cleans a messy data set", "label_zh": "清理数据"}
    )
    parent = CompetencyItem.objects.get(code="DS.1")
    page = client.post(
        add,
        {"code": "DS.1.a", "label_en": "Removes duplicate rows", "parent": parent.pk},
        follow=True,
    ).content.decode()

    assert page.index("Cleans a messy data set") < page.index("Removes duplicate rows")
    child = CompetencyItem.objects.get(code="DS.1.a")
    assert child.parent == parent
    assert child.uri.startswith(framework.uri + "/")
    public = client.get(urlsplit(child.uri).path)
    assert public.status_code == 200
    assert "Removes duplicate rows" in public.content.decode()
    assert "Poly Data Skills" in client.get(urlsplit(framework.uri).path).content.decode()


def test_an_item_can_keep_an_external_uri_of_its_own(cast: Cast) -> None:
    framework, _cleaning, _charts = make_framework(cast)

    item = competency_services.add_competency_item(
        actor=cast.editor,
        framework=framework,
        label_en="Uses spreadsheets",
        uri="https://skills.example/items/spreadsheets",
    )

    assert item.uri == "https://skills.example/items/spreadsheets"


def test_custom_items_are_found_by_the_alignment_search_in_either_language(
    client: Client, cast: Cast
) -> None:
    make_framework(cast)
    client.force_login(cast.editor)
    search = reverse("manage:competencies_search", args=[cast.institution.slug])

    english = client.get(search, {"q": "messy"}).content.decode()
    chinese = client.get(search, {"q": "杂乱"}).content.decode()

    assert "Cleans a messy data set" in english
    assert "Poly Data Skills" in english
    assert "Cleans a messy data set" in chinese


def test_a_custom_item_is_exported_as_an_ob3_alignment_with_its_uri(cast: Cast) -> None:
    _framework, cleaning, _charts = make_framework(cast)
    version = published_with(cast, cleaning)

    credential = award(cast.awarder, version).credential

    (alignment,) = credential["credentialSubject"]["achievement"]["alignment"]
    assert alignment["type"] == ["Alignment"]
    assert alignment["targetName"] == "Cleans a messy data set"
    assert alignment["targetUrl"] == cleaning.uri
    assert alignment["targetCode"] == "DS.1"
    assert alignment["targetFramework"] == "Poly Data Skills"
    assert "targetType" not in alignment  # no AlignmentTargetType value fits a custom item


def test_a_chinese_credential_names_custom_competencies_in_chinese_where_they_have_it(
    cast: Cast,
) -> None:
    _framework, cleaning, charts = make_framework(cast)
    achievement = make_achievement(
        cast.editor,
        cast.issuer,
        "bilingual",
        name_zh="数据素养",
        description_zh="清理并解释数据。",
        criteria_zh="完成作品集。",
    )
    draft = badge_selectors.draft_of(achievement)
    assert draft is not None
    place(cast.editor, draft, levels=(), credits=(), competencies=[cleaning, charts])
    version = achievement_services.publish_version(actor=cast.editor, version=draft)

    zh = award(cast.awarder, version, language="zh-Hans").credential
    en = award(cast.awarder, version, email="other@example.com", language="en").credential

    zh_names = [a["targetName"] for a in zh["credentialSubject"]["achievement"]["alignment"]]
    en_names = [a["targetName"] for a in en["credentialSubject"]["achievement"]["alignment"]]
    assert zh_names == ["清理杂乱的数据集", "Explains a chart"]  # no Chinese for DS.2: English
    assert en_names == ["Cleans a messy data set", "Explains a chart"]
    zh_frameworks = {
        a["targetFramework"] for a in zh["credentialSubject"]["achievement"]["alignment"]
    }
    assert zh_frameworks == {"理工数据技能"}


def test_an_item_aligned_to_a_published_micro_credential_is_retired_not_deleted(
    client: Client, cast: Cast
) -> None:
    _framework, cleaning, _charts = make_framework(cast)
    published_with(cast, cleaning)
    client.force_login(cast.editor)

    refused = client.post(item_url(cast, cleaning, "delete"), follow=True).content.decode()

    assert "cannot be deleted: it is aligned to the published micro-credential(s)" in refused
    assert "Retire it instead" in refused
    assert CompetencyItem.objects.filter(pk=cleaning.pk).exists()

    retired = client.post(item_url(cast, cleaning, "retire"), {"retire": "1"}, follow=True)
    assert "was retired: it can no longer be chosen for new alignments." in (
        retired.content.decode()
    )
    search = client.get(
        reverse("manage:competencies_search", args=[cast.institution.slug]), {"q": "messy"}
    )
    assert "Cleans a messy data set" not in search.content.decode()
    # Credentials issued with it still carry it.
    version = badge_selectors.latest_published(Achievement.objects.get(slug="data-literacy"))
    assert version is not None
    credential = award(cast.awarder, version).credential
    assert credential["credentialSubject"]["achievement"]["alignment"][0]["targetUrl"] == (
        cleaning.uri
    )


def test_an_unused_item_is_deleted(client: Client, cast: Cast) -> None:
    framework, _cleaning, charts = make_framework(cast)
    client.force_login(cast.editor)

    response = client.post(item_url(cast, charts, "delete"), follow=True)

    assert "“DS.2” was deleted." in response.content.decode()
    assert list(framework.items.values_list("code", flat=True)) == ["DS.1"]


def test_an_item_on_a_draft_only_is_not_deleted_behind_the_drafts_back(cast: Cast) -> None:
    from django.core.exceptions import ValidationError

    _framework, cleaning, _charts = make_framework(cast)
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, levels=(), credits=(), competencies=[cleaning])

    with pytest.raises(ValidationError, match="is aligned to the draft of"):
        competency_services.delete_competency_item(actor=cast.editor, item=cleaning)


def test_the_uri_of_an_item_in_issued_credentials_no_longer_changes(
    client: Client, cast: Cast
) -> None:
    _framework, cleaning, charts = make_framework(cast)
    published_with(cast, cleaning)
    client.force_login(cast.editor)

    refused = client.post(
        item_url(cast, cleaning, "edit"),
        {"code": "DS.1", "label_en": "Cleans data", "uri": "https://elsewhere.example/1"},
    )
    moved = client.post(
        item_url(cast, charts, "edit"),
        {"code": "DS.2", "label_en": "Explains a chart", "uri": "https://elsewhere.example/2"},
    )

    assert "so the URI can no longer change" in refused.content.decode()
    cleaning.refresh_from_db()
    assert cleaning.uri.startswith(settings.INSIGNIA_BASE_URL)
    assert cleaning.label == "Cleans a messy data set"
    assert moved.status_code == 302
    charts.refresh_from_db()
    assert charts.uri == "https://elsewhere.example/2"


def test_items_are_reordered_and_nested_but_never_under_themselves(
    client: Client, cast: Cast
) -> None:
    framework, cleaning, charts = make_framework(cast)
    client.force_login(cast.editor)

    client.post(item_url(cast, charts, "move"), {"direction": "up"})
    page = client.get(framework_url(cast, framework)).content.decode()
    assert page.index("Explains a chart") < page.index("Cleans a messy data set")

    client.post(
        item_url(cast, charts, "edit"),
        {"code": "DS.2", "label_en": "Explains a chart", "parent": cleaning.pk},
    )
    charts.refresh_from_db()
    assert charts.parent == cleaning
    loop = client.post(
        item_url(cast, cleaning, "edit"),
        {"code": "DS.1", "label_en": "Cleans a messy data set", "parent": charts.pk},
    )
    assert loop.status_code == 200
    assert "Select a valid choice" in loop.content.decode()  # not offered as a parent
    cleaning.refresh_from_db()
    assert cleaning.parent is None


def test_a_code_used_twice_in_a_framework_is_refused_in_words(client: Client, cast: Cast) -> None:
    framework, _cleaning, _charts = make_framework(cast)
    client.force_login(cast.editor)

    response = client.post(
        reverse("manage:competency_item_create", args=[cast.institution.slug, framework.pk]),
        {"code": "ds.1", "label_en": "Something else"},
    )

    assert "Another item of this framework already has the code ds.1." in (
        response.content.decode()
    )
    assert framework.items.count() == 2


def test_a_framework_needs_a_name_and_a_valid_uri(client: Client, cast: Cast) -> None:
    client.force_login(cast.editor)

    response = client.post(
        reverse("manage:competency_framework_create", args=[cast.institution.slug]),
        {"title_en": "", "uri": "not a uri at all"},
    )

    body = response.content.decode()
    assert "This field is required." in body
    assert "Enter a valid URL." in body
    assert not CompetencyFramework.objects.filter(owner=cast.institution).exists()


def test_an_imported_framework_is_read_only_in_the_editor(client: Client, cast: Cast) -> None:
    client.force_login(cast.editor)
    client.post(
        reverse("manage:competencies_import", args=[cast.institution.slug]),
        {"file": SimpleUploadedFile("skills_en.csv", ESCO_CSV.encode(), "text/csv")},
    )
    esco = CompetencyFramework.objects.get(owner=cast.institution, source="esco")
    item = esco.items.first()
    assert item is not None

    page = client.get(framework_url(cast, esco)).content.decode()

    assert "read-only here" in page
    assert "Python (computer programming)" in page
    assert "Add an item" not in page
    assert client.get(framework_url(cast, esco, "edit")).status_code == 404
    assert client.post(item_url(cast, item, "delete")).status_code == 404
    assert esco.items.count() == 2


@pytest.mark.parametrize("who", ["awarder", "viewer"])
def test_awarders_and_viewers_read_the_framework_but_cannot_change_it(
    client: Client, cast: Cast, who: str
) -> None:
    framework, cleaning, _charts = make_framework(cast)
    client.force_login(getattr(cast, who))

    page = client.get(framework_url(cast, framework))
    assert page.status_code == 200
    assert "Cleans a messy data set" in page.content.decode()
    assert "Add an item" not in page.content.decode()

    create = reverse("manage:competency_framework_create", args=[cast.institution.slug])
    assert client.get(create).status_code == 403
    assert client.post(create, {"title_en": "Mine"}).status_code == 403
    assert client.get(framework_url(cast, framework, "edit")).status_code == 403
    assert client.post(item_url(cast, cleaning, "edit"), {"label_en": "X"}).status_code == 403
    assert client.post(item_url(cast, cleaning, "retire"), {"retire": "1"}).status_code == 403
    assert client.post(item_url(cast, cleaning, "delete")).status_code == 403
    cleaning.refresh_from_db()
    assert (cleaning.label, cleaning.retired_at) == ("Cleans a messy data set", None)
    assert CompetencyFramework.objects.filter(owner=cast.institution).count() == 1


def test_another_institution_can_neither_see_nor_change_the_framework(
    client: Client, cast: Cast
) -> None:
    framework, cleaning, _charts = make_framework(cast)
    client.force_login(cast.outsider)
    own = cast.other_institution.slug

    assert client.get(framework_url(cast, framework)).status_code == 404
    assert (
        client.get(reverse("manage:competency_framework", args=[own, framework.pk])).status_code
        == 404
    )
    deleted = client.post(
        reverse("manage:competency_item_delete", args=[own, framework.pk, cleaning.pk])
    )
    assert deleted.status_code == 404
    search = client.get(reverse("manage:competencies_search", args=[own]), {"q": "messy"})
    assert "Cleans a messy data set" not in search.content.decode()
    assert CompetencyItem.objects.filter(pk=cleaning.pk).exists()
