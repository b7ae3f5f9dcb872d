"""What an institution and its issuers say about themselves ends up in credentials (the issuer
``Profile``: name, description, web page, e-mail) and on share cards, and a credential is baked
into an SVG: text XML 1.0 cannot carry is refused where it is typed, with the field named
(issue 18, interop defect d; ``common.text``). No API writes these fields; the operators'
admin goes through the models' validators."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from issuers.models import Institution, Issuer
from tests.base import Cast

pytestmark = pytest.mark.django_db

REFUSED = "cannot be put in a badge (U+FFFF"
ISSUER = {
    "name_en": "Faculty of Engineering",
    "name_zh": "工程学院",
    "description_en": "Engineering at Poly.",
    "description_zh": "理工学院的工程学院。",
    "url": "https://poly.example/eng",
    "email": "eng@poly.example",
}
INSTITUTION = {
    "name_en": "Poly Technic",
    "name_zh": "理工学院",
    "country": "NZ",
    "website": "https://poly.example/",
    "brand_colour": "#1f4e79",
}


def _spoiled(values: dict[str, str], field: str) -> dict[str, str]:
    if field == "email":
        return {**values, field: "eng\uffff@poly.example"}
    if field in {"url", "website"}:
        return {**values, field: values[field] + "a\uffff"}
    return {**values, field: values[field] + "\uffff"}


def _refused_on(response: Any, field: str) -> None:
    assert response.status_code == 200  # the form again, not a redirect
    errors = response.context["form"].errors
    assert field in errors, errors
    assert REFUSED in " ".join(errors[field])
    assert REFUSED in response.content.decode()


@pytest.mark.parametrize("field", list(ISSUER))
def test_the_issuer_form_refuses_text_a_badge_cannot_carry(
    client: Client, cast: Cast, field: str
) -> None:
    client.force_login(cast.editor)
    url = reverse("manage:issuer_edit", args=["poly", cast.issuer.slug])

    response = client.post(url, _spoiled(ISSUER, field))

    _refused_on(response, field)
    cast.issuer.refresh_from_db()
    assert cast.issuer.name_en != ISSUER["name_en"]  # nothing was saved


@pytest.mark.parametrize("field", ["name_en", "description_zh", "url"])
def test_a_new_issuer_with_such_text_is_not_created(client: Client, cast: Cast, field: str) -> None:
    client.force_login(cast.owner)
    url = reverse("manage:issuer_create", args=["poly"])

    response = client.post(url, {"slug": "poly-new", **_spoiled(ISSUER, field)})

    _refused_on(response, field)
    assert not Issuer.objects.filter(slug="poly-new").exists()


@pytest.mark.parametrize("field", ["name_en", "name_zh", "website"])
def test_the_institution_settings_refuse_text_a_badge_cannot_carry(
    client: Client, cast: Cast, field: str
) -> None:
    client.force_login(cast.owner)
    url = reverse("manage:settings", args=["poly"])

    response = client.post(url, _spoiled(INSTITUTION, field))

    _refused_on(response, field)
    cast.institution.refresh_from_db()
    assert "\uffff" not in cast.institution.name_en + cast.institution.name_zh


def test_the_admin_models_refuse_it_too(cast: Cast) -> None:
    cast.issuer.description_en = "Engineering\ufffe"
    with pytest.raises(ValidationError) as refused:
        cast.issuer.full_clean()
    assert set(refused.value.message_dict) == {"description_en"}

    institution = Institution.objects.get(pk=cast.institution.pk)
    institution.name_zh = "理工\x01学院"
    with pytest.raises(ValidationError) as refused:
        institution.full_clean()
    assert set(refused.value.message_dict) == {"name_zh"}
    assert "U+0001" in refused.value.message_dict["name_zh"][0]
