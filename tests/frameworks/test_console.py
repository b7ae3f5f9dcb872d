"""Console pages: choose policies, import competencies, place a version, search skills."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from achievements import services as achievement_services
from badges import selectors as badge_selectors
from frameworks.catalogue.selectors import NoConversionRule, convert_credits
from frameworks.competencies.services import import_competency_framework
from frameworks.models import CompetencyItem, MicroCredentialPolicy
from tests.base import Cast
from tests.frameworks.helpers import ESCO_CSV, draft_micro, level, place, system

pytestmark = pytest.mark.django_db


def test_an_owner_chooses_the_nzqcf_policy_in_the_console(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    url = reverse("manage:frameworks", args=[cast.institution.slug])
    assert MicroCredentialPolicy.objects.filter(code="nzqcf-micro").exists()

    response = client.post(url, {"apply_nzqcf-micro": "on", "confirm": "yes"}, follow=True)

    assert "The policies were saved." in response.content.decode()
    assert list(cast.institution.policy_choices.values_list("policy__code", flat=True)) == [
        "nzqcf-micro"
    ]


def test_an_editor_imports_esco_searches_and_places_a_version(client: Client, cast: Cast) -> None:
    client.force_login(cast.editor)
    slug = cast.institution.slug
    imported = client.post(
        reverse("manage:competencies_import", args=[slug]),
        {"file": SimpleUploadedFile("skills_en.csv", ESCO_CSV.encode(), "text/csv")},
        follow=True,
    )
    assert "Imported ESCO skills: 2 competencies." in imported.content.decode()

    search = client.get(reverse("manage:competencies_search", args=[slug]), {"q": "pyth"})
    assert "Python (computer programming)" in search.content.decode()
    assert "spreadsheets" not in search.content.decode()

    draft = draft_micro(cast.editor, cast.issuer)
    item = CompetencyItem.objects.get(label="Python (computer programming)")
    url = reverse("manage:achievement_placement", args=[slug, draft.achievement_id])
    saved = client.post(
        url,
        {
            "level_nzqcf": level("nzqcf", "4").pk,
            "credits_nzqcf-credit": "15",
            "notional_hours": "150",
            "outcomes_en": "Cleans a data set.",
            "assessment_type": "portfolio",
            "competency": [item.pk],
        },
        follow=True,
    )

    body = saved.content.decode()
    assert "The placement was saved." in body
    assert "Python (computer programming)" in body
    version = badge_selectors.draft_of(draft.achievement)
    assert version is not None
    assert version.placement.credits.get().amount == 15


def test_a_skill_of_another_institution_cannot_be_picked(client: Client, cast: Cast) -> None:
    import_competency_framework(
        actor=cast.outsider, institution=cast.other_institution, content=ESCO_CSV.encode()
    )
    theirs = CompetencyItem.objects.filter(framework__owner=cast.other_institution).first()
    assert theirs is not None
    client.force_login(cast.editor)

    response = client.get(
        reverse("manage:competencies_search", args=[cast.institution.slug]), {"pick": theirs.pk}
    )
    search = client.get(
        reverse("manage:competencies_search", args=[cast.institution.slug]), {"q": "python"}
    )

    assert response.status_code == 404
    assert "Python (computer programming)" not in search.content.decode()


def test_the_api_lists_frameworks_and_a_published_placement(client: Client, cast: Cast) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft)
    achievement_services.publish_version(actor=cast.editor, version=draft)

    frameworks = client.get(reverse("api_frameworks")).json()
    placement = client.get(reverse("api_placement", args=[draft.achievement_id])).json()

    nzqcf = next(f for f in frameworks["frameworks"] if f["code"] == "nzqcf")
    assert [lv["code"] for lv in nzqcf["levels"]] == [str(n) for n in range(1, 11)]
    assert placement["levels"] == [{"framework": "nzqcf", "level": "4"}]
    assert placement["credits"] == [{"system": "nzqcf-credit", "amount": "15", "primary": True}]


def test_credit_conversion_needs_an_explicit_dated_rule() -> None:
    converted, rule = convert_credits(
        amount=Decimal(15),
        source=system("nzqcf-credit"),
        target=system("ects"),
        on=datetime.date(2026, 1, 1),
    )
    assert converted == Decimal("7.5")
    assert rule.basis == "fte_year"
    with pytest.raises(NoConversionRule):
        convert_credits(
            amount=Decimal(15),
            source=system("nzqcf-credit"),
            target=system("ects"),
            on=datetime.date(2020, 1, 1),
        )
    with pytest.raises(NoConversionRule):
        convert_credits(
            amount=Decimal(3),
            source=system("ects"),
            target=system("nzqcf-credit"),
            on=datetime.date(2026, 1, 1),
        )
