"""Equivalence statements for external training (NZQA-style): staff write, publish and
withdraw them; the public register and API show published ones; a recognition case whose
verified badge matches a published statement shows it and pre-fills the decision."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from achievements import services as achievement_services
from awarding.revocation import services as revocation_services
from badges.models import Achievement, Award
from frameworks.equivalence import selectors as equivalence_selectors
from frameworks.equivalence import services as equivalence_services
from frameworks.models import EquivalenceStatement, RecognitionCase, RecognitionDecision
from frameworks.recognition import services as recognition_services
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.frameworks.helpers import draft_micro, import_esco, level, place, system

pytestmark = pytest.mark.django_db
LEARNER = "learner@example.com"
TODAY = timezone.localdate()


def statement_data(**overrides: Any) -> equivalence_services.StatementData:
    values: dict[str, Any] = {
        "provider_name": "Poly Technic",
        "title": "Data Literacy",
        "rationale": "Same outcomes at NZQCF level 4, checked module by module.",
        "valid_from": TODAY - datetime.timedelta(days=30),
        "level": level("nzqcf", "4"),
        "credit_system": system("nzqcf-credit"),
        "credits": Decimal(15),
        **overrides,
    }
    return equivalence_services.StatementData(**values)


def learners_badge(cast: Cast) -> Award:
    """A badge from Poly Technic (the external provider for Rival College)."""
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, competencies=import_esco(cast.editor, cast.institution))
    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    return award(cast.awarder, version, email=LEARNER)


def rival_module(cast: Cast) -> Achievement:
    return make_published(cast.outsider, cast.other_issuer, "data-101").achievement


def published(cast: Cast, **overrides: Any) -> EquivalenceStatement:
    """A statement at Rival College (the receiving institution)."""
    statement = equivalence_services.create_statement(
        actor=cast.outsider, institution=cast.other_institution, data=statement_data(**overrides)
    )
    return equivalence_services.publish_statement(actor=cast.outsider, statement=statement)


def open_case(cast: Cast, given: Award, module: Achievement) -> RecognitionCase:
    case = recognition_services.open_case(
        actor=cast.outsider,
        institution=cast.other_institution,
        learner_email=LEARNER,
        module=module,
    )
    recognition_services.add_evidence(actor=cast.outsider, case=case, url=given.credential["id"])
    return case


# Writing statements ------------------------------------------------------------------------


def test_a_statement_that_ends_before_it_starts_is_refused(cast: Cast) -> None:
    with pytest.raises(ValidationError) as raised:
        equivalence_services.create_statement(
            actor=cast.owner,
            institution=cast.institution,
            data=statement_data(
                valid_from=datetime.date(2026, 6, 1), valid_until=datetime.date(2026, 5, 31)
            ),
        )

    assert raised.value.message_dict == {
        "valid_until": ["The statement cannot end before it starts."]
    }
    assert not EquivalenceStatement.objects.exists()


@pytest.mark.parametrize(
    "link", ["ftp://files.example/growsafe.pdf", "javascript:alert(1)", "www.example.com"]
)
def test_a_link_that_is_not_http_is_refused(cast: Cast, link: str) -> None:
    with pytest.raises(ValidationError) as raised:
        equivalence_services.create_statement(
            actor=cast.owner, institution=cast.institution, data=statement_data(link=link)
        )

    assert "link" in raised.value.message_dict


def test_a_statement_must_say_what_it_is_equivalent_to(cast: Cast) -> None:
    with pytest.raises(ValidationError) as raised:
        equivalence_services.create_statement(
            actor=cast.owner,
            institution=cast.institution,
            data=statement_data(level=None, credit_system=None, credits=None),
        )
    assert "local_achievement" in raised.value.message_dict

    with pytest.raises(ValidationError) as raised:
        equivalence_services.create_statement(
            actor=cast.owner, institution=cast.institution, data=statement_data(level=None)
        )
    assert raised.value.message_dict["level"] == [
        "Choose the level at which the credits are recognised."
    ]


def test_an_exemption_must_be_from_a_module_of_the_institution(cast: Cast) -> None:
    theirs = rival_module(cast)

    with pytest.raises(ValidationError) as raised:
        equivalence_services.create_statement(
            actor=cast.owner,
            institution=cast.institution,
            data=statement_data(local_achievement=theirs),
        )

    assert "local_achievement" in raised.value.message_dict


def test_viewers_and_outsiders_cannot_write_statements(cast: Cast) -> None:
    for actor in (cast.viewer, cast.awarder, cast.outsider):
        with pytest.raises(PermissionDenied):
            equivalence_services.create_statement(
                actor=actor, institution=cast.institution, data=statement_data()
            )


def test_a_published_statement_cannot_be_rewritten_only_withdrawn(cast: Cast) -> None:
    statement = published(cast)

    with pytest.raises(ValidationError):
        equivalence_services.update_statement(
            actor=cast.outsider, statement=statement, data=statement_data(credits=Decimal(40))
        )
    withdrawn = equivalence_services.withdraw_statement(
        actor=cast.outsider, statement=statement, reason="Provider changed its syllabus."
    )

    assert withdrawn.status == "withdrawn"
    assert EquivalenceStatement.objects.get().credits == Decimal(15)


# Console ---------------------------------------------------------------------------------


def _form(**overrides: str) -> dict[str, str]:
    return {
        "provider_name": "NZ Agrichemical Education Trust",
        "title": "Growsafe Standard",
        "issuer_id": "https://growsafe.example/issuer",
        "achievement_id": "https://growsafe.example/badges/standard",
        "link": "https://growsafe.example/standard",
        "authority": "NZQA",
        "local_achievement": "",
        "credits": "10",
        "credit_system": str(system("nzqcf-credit").pk),
        "level": str(level("nzqcf", "3").pk),
        "rationale": "Listed by NZQA at level 3 with 10 credits.",
        "valid_from": "2024-01-01",
        "valid_until": "",
        **overrides,
    }


def test_staff_write_publish_and_withdraw_a_statement_in_the_console(
    cast: Cast, client: Client
) -> None:
    client.force_login(cast.editor)
    slug = cast.institution.slug

    created = client.post(reverse("manage:equivalence_create", args=[slug]), _form())
    assert created.status_code == 302
    page = created["Location"]
    published_page = client.post(page, {"action": "publish"}, follow=True)
    listing = client.get(reverse("manage:equivalences", args=[slug])).content.decode()
    register = client.get(reverse("equivalence_register")).content.decode()
    withdrawn = client.post(
        page, {"action": "withdraw", "reason": "NZQA archived the register."}, follow=True
    )

    assert "The statement is published." in published_page.content.decode()
    assert "Growsafe Standard" in listing and "Published" in listing
    assert "Growsafe Standard" in register
    assert "10 NZQCF credits" in register
    assert "The statement was withdrawn." in withdrawn.content.decode()
    assert "Growsafe Standard" not in client.get(reverse("equivalence_register")).content.decode()


def test_the_console_shows_why_a_statement_is_refused(cast: Cast, client: Client) -> None:
    client.force_login(cast.editor)
    url = reverse("manage:equivalence_create", args=[cast.institution.slug])

    backwards = client.post(url, _form(valid_from="2026-06-01", valid_until="2026-05-01"))
    bad_link = client.post(url, _form(link="ftp://growsafe.example/standard.pdf"))

    assert backwards.status_code == 200
    assert "The statement cannot end before it starts." in backwards.content.decode()
    assert bad_link.status_code == 200
    assert "Enter a valid URL." in bad_link.content.decode() or (
        "The link must start with https:// or http://." in bad_link.content.decode()
    )
    assert not EquivalenceStatement.objects.exists()


def test_a_viewer_reads_statements_but_cannot_change_them(cast: Cast, client: Client) -> None:
    statement = equivalence_services.create_statement(
        actor=cast.owner, institution=cast.institution, data=statement_data()
    )
    client.force_login(cast.viewer)
    slug = cast.institution.slug
    detail = reverse("manage:equivalence_detail", args=[slug, statement.pk])

    page = client.get(detail)
    publish = client.post(detail, {"action": "publish"})
    create = client.get(reverse("manage:equivalence_create", args=[slug]))

    assert page.status_code == 200
    assert "Data Literacy" in page.content.decode()
    assert "Publish statement" not in page.content.decode()
    assert publish.status_code == 403
    assert create.status_code == 403
    statement.refresh_from_db()
    assert statement.status == "draft"


def test_an_outsider_institution_cannot_see_or_edit_a_statement(cast: Cast, client: Client) -> None:
    statement = equivalence_services.create_statement(
        actor=cast.owner, institution=cast.institution, data=statement_data()
    )
    client.force_login(cast.outsider)
    theirs = reverse("manage:equivalence_detail", args=[cast.institution.slug, statement.pk])
    through_own = reverse(
        "manage:equivalence_detail", args=[cast.other_institution.slug, statement.pk]
    )

    assert client.post(theirs, {"action": "publish"}).status_code == 404
    assert client.post(through_own, {"action": "publish"}).status_code == 404
    assert client.post(through_own, {"action": "save", **_form()}).status_code == 404
    statement.refresh_from_db()
    assert statement.status == "draft"
    assert statement.title == "Data Literacy"


# Public register and API -----------------------------------------------------------------


def test_the_public_page_and_api_show_a_published_statement(cast: Cast, client: Client) -> None:
    statement = published(cast, achievement_id="https://poly.example/achievements/1")

    page = client.get(reverse("equivalence_public", args=[statement.pk]))
    zh = client.get(
        reverse("equivalence_public", args=[statement.pk]), HTTP_ACCEPT_LANGUAGE="zh-Hans"
    )
    one = client.get(reverse("api_equivalence", args=[statement.pk])).json()
    listing = client.get(
        reverse("api_equivalences"), {"achievement_id": "https://poly.example/achievements/1"}
    ).json()

    assert page.status_code == 200
    assert "Rival College recognises this external credential" in page.content.decode()
    assert "15 NZQCF credits" in page.content.decode()
    assert "理由" in zh.content.decode()  # "Rationale" in Chinese
    assert one["title"] == "Data Literacy"
    assert one["level"] == {"framework": "nzqcf", "level": "4"}
    assert one["credits"] == {"amount": "15", "system": "nzqcf-credit", "unit": "NZQCF credits"}
    assert one["recognised_by"]["slug"] == "rival-college"
    assert [s["id"] for s in listing["statements"]] == [str(statement.pk)]


def test_drafts_are_not_public_and_withdrawn_statements_say_so(cast: Cast, client: Client) -> None:
    draft = equivalence_services.create_statement(
        actor=cast.outsider, institution=cast.other_institution, data=statement_data()
    )
    gone = published(cast, title="Old Course")
    equivalence_services.withdraw_statement(
        actor=cast.outsider, statement=gone, reason="Superseded."
    )

    assert client.get(reverse("equivalence_public", args=[draft.pk])).status_code == 404
    assert client.get(reverse("api_equivalence", args=[draft.pk])).status_code == 404
    page = client.get(reverse("equivalence_public", args=[gone.pk]))
    assert page.status_code == 410
    assert "withdrew this statement" in page.content.decode()
    assert client.get(reverse("api_equivalence", args=[gone.pk])).json()["status"] == "withdrawn"
    assert client.get(reverse("api_equivalences")).json() == {"statements": []}


# Recognition -----------------------------------------------------------------------------


def test_a_matching_badge_shows_the_statement_and_prefills_the_decision(
    cast: Cast, client: Client
) -> None:
    given = learners_badge(cast)
    module = rival_module(cast)
    statement = published(
        cast,
        achievement_id=given.credential["credentialSubject"]["achievement"]["id"],
        local_achievement=module,
    )
    case = open_case(cast, given, module)
    client.force_login(cast.outsider)

    page = client.get(
        reverse("manage:recognition_case", args=[cast.other_institution.slug, case.pk])
    )
    form = page.context["decision_form"]

    body = page.content.decode()
    assert f'data-equivalence="{statement.pk}"' in body
    assert "matches your published statement on Data Literacy" in body
    assert form.initial["outcome"] == "exemption"
    assert form.initial["equivalence"] == statement.pk
    assert "Same outcomes at NZQCF level 4" in form.initial["rationale"]
    assert not RecognitionDecision.objects.exists()  # the assessor still decides


def test_a_badge_matches_by_issuer_id_and_name_and_the_decision_records_the_statement(
    cast: Cast, client: Client
) -> None:
    given = learners_badge(cast)
    module = rival_module(cast)
    statement = published(
        cast, issuer_id=given.credential["issuer"]["id"], title="  data   LITERACY "
    )
    case = open_case(cast, given, module)
    client.force_login(cast.outsider)
    url = reverse("manage:recognition_case", args=[cast.other_institution.slug, case.pk])

    initial = client.get(url).context["decision_form"].initial
    decided = client.post(
        url,
        {
            "action": "decide",
            "outcome": initial["outcome"],
            "credits": str(initial["credits"]),
            "credit_system": str(initial["credit_system"]),
            "rationale": initial["rationale"],
            "equivalence": str(statement.pk),
        },
        follow=True,
    )

    assert initial["outcome"] == "credit"
    assert initial["credits"] == Decimal(15)
    decision = RecognitionDecision.objects.get()
    assert decision.equivalence == statement
    assert decision.credits == Decimal(15)
    assert "per equivalence statement" in decided.content.decode()


def test_an_unrelated_badge_or_another_institutions_statement_suggests_nothing(
    cast: Cast,
) -> None:
    given = learners_badge(cast)
    module = rival_module(cast)
    published(cast, issuer_id=given.credential["issuer"]["id"], title="Another course")
    poly = equivalence_services.create_statement(
        actor=cast.owner,
        institution=cast.institution,
        data=statement_data(
            achievement_id=given.credential["credentialSubject"]["achievement"]["id"]
        ),
    )
    equivalence_services.publish_statement(actor=cast.owner, statement=poly)
    case = open_case(cast, given, module)

    assert equivalence_selectors.suggestions(case) == []


def test_a_withdrawn_or_future_statement_cannot_back_a_new_decision(cast: Cast) -> None:
    given = learners_badge(cast)
    module = rival_module(cast)
    achievement_id = given.credential["credentialSubject"]["achievement"]["id"]
    withdrawn = published(cast, achievement_id=achievement_id)
    equivalence_services.withdraw_statement(actor=cast.outsider, statement=withdrawn)
    future = published(
        cast,
        achievement_id=achievement_id,
        valid_from=TODAY + datetime.timedelta(days=10),
    )
    case = open_case(cast, given, module)

    assert equivalence_selectors.suggestions(case) == []
    for statement in (withdrawn, future):
        with pytest.raises(ValidationError) as raised:
            recognition_services.decide(
                actor=cast.outsider,
                case=case,
                outcome="credit",
                credits=Decimal(15),
                credit_system=system("nzqcf-credit"),
                rationale="Per statement.",
                equivalence=statement,
            )
        assert "equivalence" in raised.value.message_dict
    assert not RecognitionDecision.objects.exists()


def test_a_statement_about_a_badge_that_no_longer_verifies_is_shown_but_not_prefilled(
    cast: Cast,
) -> None:
    given = learners_badge(cast)
    module = rival_module(cast)
    published(
        cast,
        achievement_id=given.credential["credentialSubject"]["achievement"]["id"],
        local_achievement=module,
    )
    revocation_services.revoke_award(actor=cast.editor, award=given, reason="Issued in error")
    case = open_case(cast, given, module)

    (suggestion,) = equivalence_selectors.suggestions(case)

    assert suggestion.evidence.verdict == "revoked"
    assert not suggestion.usable
    assert suggestion.initial() == {}


def test_the_demo_has_one_published_statement_however_often_it_is_seeded(client: Client) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    statement = EquivalenceStatement.objects.get()
    register = client.get(reverse("equivalence_register")).content.decode()
    assert statement.status == "published"
    assert statement.institution.slug == "demo-poly"
    assert statement.is_current(timezone.localdate())
    assert "Growsafe Standard" in register
    assert "NZ Agrichemical Education Trust" in register
