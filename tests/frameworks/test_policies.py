"""Micro-credential policies are checked when a version is published and before each award."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from achievements import services as achievement_services
from frameworks.catalogue import policies
from frameworks.catalogue.selectors import placement_of
from tests.badges.helpers import award
from tests.base import Cast
from tests.frameworks.helpers import choose, draft_micro, import_esco, place

pytestmark = pytest.mark.django_db


def test_publishing_a_45_credit_nzqcf_micro_credential_is_refused_with_a_clear_message(
    cast: Cast,
) -> None:
    choose(cast.owner, cast.institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, credits=(("nzqcf-credit", "45"),), notional_hours=450)

    with pytest.raises(ValidationError) as refused:
        achievement_services.publish_version(actor=cast.editor, version=draft)

    assert refused.value.messages == [
        "NZQCF micro-credential: A micro-credential must be worth 5 to 40 NZQCF credits; "
        "this one is worth 45."
    ]
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_15_credit_level_4_nzqcf_micro_credential_is_published_and_awarded(cast: Cast) -> None:
    choose(cast.owner, cast.institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft)

    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    given = award(cast.awarder, version)

    assert given.credential["credentialSubject"]["achievement"]["creditsAvailable"] == 15


def test_a_micro_credential_without_an_nzqcf_level_or_credits_cannot_be_published(
    cast: Cast,
) -> None:
    choose(cast.owner, cast.institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)

    problems = achievement_services.publish_problems(draft)

    assert "NZQCF micro-credential: Place it at a level of the NZQCF." in problems
    assert "NZQCF micro-credential: State its value in NZQCF credits." in problems


def test_fractional_nzqcf_credits_are_refused(cast: Cast) -> None:
    choose(cast.owner, cast.institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)
    with pytest.raises(ValidationError) as refused:
        place(cast.editor, draft, credits=(("nzqcf-credit", "7.5"),))
    assert "NZQCF credits allow 0 decimal places." in refused.value.messages


def test_hours_that_do_not_match_the_credits_warn_but_do_not_block(cast: Cast) -> None:
    choose(cast.owner, cast.institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, notional_hours=100)

    issues = policies.check_version(draft, placement_of(draft))

    assert [(i.blocking, i.message) for i in issues] == [
        (False, "100 notional hours do not match 15 NZQCF credits (expected 150 hours).")
    ]
    assert achievement_services.publish_problems(draft) == []


def test_eu_annex_i_names_each_missing_mandatory_element(cast: Cast) -> None:
    choose(cast.owner, cast.institution, "eu-annex-i")
    draft = draft_micro(cast.editor, cast.issuer)
    place(
        cast.editor,
        draft,
        levels=(("eqf", "5"),),
        credits=(("ects", "3"),),
        notional_hours=None,
        assessment_type="",
        quality_assurance="",
    )

    problems = achievement_services.publish_problems(draft)

    assert problems == [
        "EU micro-credential (Annex I): Say how learners are assessed.",
        "EU micro-credential (Annex I): Say how its quality is assured.",
    ]


def test_cican_requires_a_competency_alignment_and_is_met_by_an_esco_skill(cast: Cast) -> None:
    choose(cast.owner, cast.institution, "cican")
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, levels=(), credits=())
    assert achievement_services.publish_problems(draft) == [
        "CICan micro-credential: Align its outcomes to at least one competency or skill."
    ]

    place(
        cast.editor,
        draft,
        levels=(),
        credits=(),
        competencies=import_esco(cast.editor, cast.institution),
    )

    assert achievement_services.publish_problems(draft) == []


def test_aqf_requires_at_least_one_hour(cast: Cast) -> None:
    choose(cast.owner, cast.institution, "aqf-nmf")
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft, levels=(("aqf", "5"),), credits=(), notional_hours=None)
    assert achievement_services.publish_problems(draft) == [
        "AQF National Microcredentials Framework: State at least 1 notional hours of learning."
    ]


def test_an_award_is_refused_when_a_policy_chosen_after_publication_is_not_met(
    cast: Cast,
) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    choose(cast.owner, cast.institution, "nzqcf-micro")

    with pytest.raises(ValidationError) as refused:
        award(cast.awarder, version)

    assert "NZQCF micro-credential: Place it at a level of the NZQCF." in refused.value.messages
    assert version.awards.count() == 0


def test_policies_do_not_apply_to_a_plain_badge(cast: Cast) -> None:
    choose(cast.owner, cast.institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)
    draft = achievement_services.save_draft(
        actor=cast.editor, achievement=draft.achievement, achievement_type="Badge"
    )
    assert achievement_services.publish_problems(draft) == []


def test_the_policies_of_another_institution_do_not_apply(cast: Cast) -> None:
    choose(cast.outsider, cast.other_institution, "nzqcf-micro")
    draft = draft_micro(cast.editor, cast.issuer)
    assert achievement_services.publish_problems(draft) == []


def test_only_an_owner_chooses_policies(cast: Cast) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        choose(cast.editor, cast.institution, "nzqcf-micro")
    assert not cast.institution.policy_choices.exists()
