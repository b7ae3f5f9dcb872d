"""Recognition of prior learning: another institution's staff verify a learner's badge and
grant credit; decisions are append-only; a later revocation flags the decision."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from achievements import services as achievement_services
from awarding.revocation import services as revocation_services
from badges.models import Award
from frameworks.models import RecognitionDecision
from frameworks.recognition import selectors as recognition_selectors
from frameworks.recognition import services as recognition_services
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.frameworks.helpers import draft_micro, import_esco, place, system

pytestmark = pytest.mark.django_db
LEARNER = "learner@example.com"


def learners_badge(cast: Cast) -> Award:
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, competencies=import_esco(cast.editor, cast.institution))
    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    return award(cast.awarder, version, email=LEARNER)


def test_staff_at_a_second_institution_recognise_a_badge_for_credit(cast: Cast) -> None:
    given = learners_badge(cast)
    module = make_published(cast.outsider, cast.other_issuer, "their-module").achievement
    case = recognition_services.open_case(
        actor=cast.outsider,
        institution=cast.other_institution,
        learner_email=LEARNER,
        module=module,
    )

    evidence = recognition_services.add_evidence(
        actor=cast.outsider, case=case, url=given.credential["id"]
    )
    words = recognition_selectors.summary(evidence)
    decision = recognition_services.decide(
        actor=cast.outsider,
        case=case,
        outcome="credit",
        credits=Decimal(15),
        credit_system=system("nzqcf-credit"),
        rationale="Same outcomes at the same level; verified.",
    )

    assert evidence.verdict == "valid"
    assert words.level == ["NZQCF Level 4"]
    assert words.credits == "15"
    assert "use spreadsheets software" in words.skills
    assert "Credits: 15 NZQCF credits." in words.description
    assert decision.evidence_verdicts == {str(evidence.pk): "valid"}
    assert not recognition_selectors.needs_review(case)


def test_a_later_revocation_flags_the_decision_for_review(cast: Cast) -> None:
    given = learners_badge(cast)
    module = make_published(cast.outsider, cast.other_issuer, "their-module").achievement
    case = recognition_services.open_case(
        actor=cast.outsider,
        institution=cast.other_institution,
        learner_email=LEARNER,
        module=module,
    )
    recognition_services.add_evidence(actor=cast.outsider, case=case, url=given.credential["id"])
    recognition_services.decide(
        actor=cast.outsider, case=case, outcome="exemption", rationale="Equivalent module."
    )

    revocation_services.revoke_award(actor=cast.editor, award=given, reason="Issued in error")
    (flagged,) = recognition_services.recheck_case(actor=cast.outsider, case=case)

    assert flagged.later_verdict == "revoked"
    assert recognition_selectors.needs_review(case)
    with pytest.raises(ValidationError):
        recognition_services.decide(
            actor=cast.outsider, case=case, outcome="exemption", rationale="Again."
        )


def test_a_badge_of_someone_else_cannot_back_credit(cast: Cast) -> None:
    given = learners_badge(cast)
    module = make_published(cast.outsider, cast.other_issuer, "their-module").achievement
    case = recognition_services.open_case(
        actor=cast.outsider,
        institution=cast.other_institution,
        learner_email="impostor@example.com",
        module=module,
    )
    evidence = recognition_services.add_evidence(
        actor=cast.outsider, case=case, url=given.credential["id"]
    )

    assert evidence.verdict == "not_recipient"
    with pytest.raises(ValidationError):
        recognition_services.decide(
            actor=cast.outsider, case=case, outcome="exemption", rationale="x"
        )


def test_decisions_are_append_only(cast: Cast) -> None:
    module = make_published(cast.outsider, cast.other_issuer, "their-module").achievement
    case = recognition_services.open_case(
        actor=cast.outsider,
        institution=cast.other_institution,
        learner_email=LEARNER,
        module=module,
    )
    decision = recognition_services.decide(
        actor=cast.outsider, case=case, outcome="declined", rationale="No evidence offered."
    )
    decision.rationale = "Rewritten"
    with pytest.raises(TypeError):
        decision.save()
    with pytest.raises(TypeError):
        decision.delete()
    assert RecognitionDecision.objects.get().rationale == "No evidence offered."


def test_only_staff_of_the_receiving_institution_open_cases(cast: Cast) -> None:
    module = make_published(cast.outsider, cast.other_issuer, "their-module").achievement
    with pytest.raises(PermissionDenied):
        recognition_services.open_case(
            actor=cast.editor,
            institution=cast.other_institution,
            learner_email=LEARNER,
            module=module,
        )


def test_staff_recognise_a_badge_for_credit_in_the_console(cast: Cast, client: Client) -> None:
    from django.urls import reverse

    given = learners_badge(cast)
    make_published(cast.outsider, cast.other_issuer, "their-module")
    client.force_login(cast.outsider)
    slug = cast.other_institution.slug
    module = cast.other_issuer.achievements.get()

    opened = client.post(
        reverse("manage:recognition", args=[slug]),
        {"learner_email": LEARNER, "learner_name": "Lee Learner", "module": module.pk},
    )
    assert opened.status_code == 302
    page = opened["Location"]
    client.post(page, {"action": "evidence", "url": given.credential["id"]})
    decided = client.post(
        page,
        {
            "action": "decide",
            "outcome": "credit",
            "credits": "15",
            "credit_system": system("nzqcf-credit").pk,
            "rationale": "Outcomes match at NZQCF level 4.",
        },
        follow=True,
    )

    body = decided.content.decode()
    assert "The decision was recorded." in body
    assert "NZQCF Level 4" in body
    assert "use spreadsheets software" in body
    assert "Grant credit" in body
    assert "15 NZQCF credits" in body


def test_the_case_page_says_what_the_checks_found_in_the_readers_language(
    cast: Cast, client: Client
) -> None:
    from django.urls import reverse

    given = learners_badge(cast)
    module = make_published(cast.outsider, cast.other_issuer, "their-module").achievement
    case = recognition_services.open_case(
        actor=cast.outsider,
        institution=cast.other_institution,
        learner_email=LEARNER,
        module=module,
    )
    recognition_services.add_evidence(actor=cast.outsider, case=case, url=given.credential["id"])
    recognition_services.decide(
        actor=cast.outsider, case=case, outcome="exemption", rationale="Same."
    )
    revocation_services.revoke_award(actor=cast.editor, award=given, reason="Issued in error")
    recognition_services.recheck_case(
        actor=cast.outsider, case=case
    )  # checked while English is active
    client.force_login(cast.outsider)
    url = reverse("manage:recognition_case", args=[cast.other_institution.slug, case.pk])

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()

    assert "Valid: this badge is genuine and in good standing." in english
    assert "Valid: this badge is genuine" not in chinese
    assert "有效" in chinese
    assert "Checked again: Revoked" in english
    assert "Revoked:" not in chinese
