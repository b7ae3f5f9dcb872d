"""Framework text that credentials carry (competency names, statements, codes and URIs in
``alignment``; a pathway's title in its signed CLR; level names and credit units) refuses what
XML 1.0 cannot hold, typed or imported, with the field or item named (issue 18, interop
defect d; ``common.text``). No API writes these fields; services refuse such text for any
caller, and the operators' admin goes through the models' validators."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from frameworks.competencies import services as competency_services
from frameworks.models import CompetencyFramework, CompetencyItem, FrameworkLevel, Pathway
from tests.base import Cast
from tests.frameworks.helpers import ESCO_CSV
from tests.frameworks.test_pathway_editor import certificate, new_url, parts, tree_post

pytestmark = pytest.mark.django_db

REFUSED = "cannot be put in a badge (U+FFFF"
FRAMEWORK = {
    "title_en": "Poly Data Skills",
    "title_zh": "理工数据技能",
    "description_en": "What our data courses teach.",
    "description_zh": "数据课程的能力。",
    "version": "2026",
    "uri": "https://poly.example/skills",
}
ITEM = {"code": "DS.1", "label_en": "Cleans a data set", "label_zh": "清理数据集"}


def _spoiled(values: dict[str, str], field: str) -> dict[str, str]:
    if field == "uri":
        return {**values, field: "https://poly.example/skills/a\uffff"}
    return {**values, field: values.get(field, "x") + "\uffff"}


def _refused_on(response: Any, field: str) -> None:
    assert response.status_code == 200  # the form again, not a redirect
    errors = response.context["form"].errors
    assert field in errors, errors
    assert REFUSED in " ".join(errors[field])
    assert REFUSED in response.content.decode()


@pytest.mark.parametrize("field", list(FRAMEWORK))
def test_a_framework_with_such_text_is_not_created(client: Client, cast: Cast, field: str) -> None:
    client.force_login(cast.editor)
    url = reverse("manage:competency_framework_create", args=[cast.institution.slug])

    response = client.post(url, _spoiled(FRAMEWORK, field))

    _refused_on(response, field)
    assert not CompetencyFramework.objects.filter(owner=cast.institution).exists()


@pytest.mark.parametrize("field", [*ITEM, "uri"])
def test_an_item_with_such_text_is_not_added(client: Client, cast: Cast, field: str) -> None:
    framework = competency_services.create_competency_framework(
        actor=cast.editor, institution=cast.institution, title_en="Poly Data Skills"
    )
    client.force_login(cast.editor)
    url = reverse("manage:competency_item_create", args=[cast.institution.slug, framework.pk])

    response = client.post(url, _spoiled(ITEM, field))

    _refused_on(response, field)
    assert not framework.items.exists()


def test_the_services_refuse_it_for_any_caller_with_the_field_named(cast: Cast) -> None:
    with pytest.raises(ValidationError) as refused:
        competency_services.create_competency_framework(
            actor=cast.editor,
            institution=cast.institution,
            title_en="Skills",
            title_zh="技能\uffff",
        )
    assert set(refused.value.message_dict) == {"title_zh"}
    framework = competency_services.create_competency_framework(
        actor=cast.editor, institution=cast.institution, title_en="Skills"
    )
    with pytest.raises(ValidationError) as refused:
        competency_services.add_competency_item(
            actor=cast.editor, framework=framework, label_en="Reads\x0b a chart"
        )
    assert set(refused.value.message_dict) == {"label_en"}
    assert "U+000B" in refused.value.message_dict["label_en"][0]


def test_an_imported_file_with_such_text_is_refused_naming_the_item(
    client: Client, cast: Cast
) -> None:
    spoiled = ESCO_CSV.replace("Programming in Python.", "Programming in Python.\uffff")
    client.force_login(cast.editor)

    response = client.post(
        reverse("manage:competencies_import", args=[cast.institution.slug]),
        {"file": SimpleUploadedFile("skills_en.csv", spoiled.encode(), "text/csv")},
        follow=True,
    )

    page = response.content.decode()
    assert "“Python (computer programming)” in this file contains a character" in page
    assert "(U+FFFF, an invisible control or non-character)" in page
    assert not CompetencyItem.objects.exists()


def test_a_lone_surrogate_in_an_imported_json_file_is_refused_not_a_500(cast: Cast) -> None:
    package = {
        "CFDocument": {"identifier": "doc-1", "title": "Poly skills", "uri": "https://p.example/d"},
        "CFItems": [
            {
                "identifier": "item-1",
                "uri": "https://p.example/i/1",
                "fullStatement": "Reads \ud800 charts",
            }
        ],
    }
    content = json.dumps(package).encode()  # "\ud800" travels as a JSON escape

    with pytest.raises(ValidationError) as refused:
        competency_services.import_competency_framework(
            actor=cast.editor, institution=cast.institution, content=content
        )

    message = " ".join(refused.value.messages)
    assert "“Reads \ufffd charts” in this file" in message
    assert "U+D800" in message
    message.encode()  # the message itself can be shown
    assert not CompetencyFramework.objects.filter(owner=cast.institution).exists()


@pytest.mark.parametrize("field", ["title_en", "title_zh"])
def test_a_pathway_with_such_a_title_is_not_saved(client: Client, cast: Cast, field: str) -> None:
    three = parts(cast)
    target = certificate(cast)
    client.force_login(cast.editor)
    post = tree_post(target, three)

    response = client.post(new_url(cast), {**post, field: post[field] + "\uffff"})

    assert response.status_code == 200
    page = response.content.decode()
    label = "Name (English)" if field == "title_en" else "Name (Chinese)"
    assert f"{label}: This text contains a character that cannot be put in a badge" in page
    assert not Pathway.objects.exists()


def test_reference_levels_refuse_it_in_the_admin(cast: Cast) -> None:
    level = FrameworkLevel.objects.first()
    assert level is not None
    level.name_en = "Level\uffff 5"
    with pytest.raises(ValidationError) as refused:
        level.full_clean()
    assert set(refused.value.message_dict) == {"name_en"}
