"""The recognition console names each local module by its name, not its short name or its
issuer's (journeys review D25: the list read "demo-poly-continuing/data-literacy")."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from frameworks.recognition import services as recognition_services
from tests.badges.helpers import make_published
from tests.base import Cast
from tests.frameworks.test_equivalence import published, rival_module

pytestmark = pytest.mark.django_db


def test_the_case_list_and_the_module_choice_show_names(cast: Cast, client: Client) -> None:
    module = make_published(cast.outsider, cast.other_issuer, "their-module").achievement
    recognition_services.open_case(
        actor=cast.outsider,
        institution=cast.other_institution,
        learner_email="learner@example.com",
        learner_name="Lee Learner",
        module=module,
    )
    client.force_login(cast.outsider)
    url = reverse("manage:recognition", args=[cast.other_institution.slug])

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    assert "Lee Learner → Data Literacy</a>" in english
    assert f">{module}<" not in english  # the form's choice: "issuer-slug/their-module"
    assert '">Data Literacy</option>' in english
    assert "their-module" not in english
    assert "Lee Learner → 数据素养</a>" in chinese


def test_equivalence_statements_name_the_module_they_exempt_from(
    cast: Cast, client: Client
) -> None:
    module = rival_module(cast)
    published(cast, title="Spreadsheet basics", local_achievement=module)
    client.force_login(cast.outsider)
    url = reverse("manage:equivalences", args=[cast.other_institution.slug])
    form_url = reverse("manage:equivalence_create", args=[cast.other_institution.slug])

    listed = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    form = client.get(form_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Exemption: Data Literacy" in listed
    assert "data-101" not in listed
    assert '">Data Literacy</option>' in form
    assert f">{module}<" not in form
