"""Stackable pathways: progress, the automatic pathway award, review flags, the CLR."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from achievements import services as achievement_services
from awarding.revocation import services as revocation_services
from badges.models import AchievementVersion, Award
from frameworks.models import Pathway
from frameworks.pathways import selectors as pathway_selectors
from frameworks.pathways import services as pathway_services
from frameworks.pathways.trees import GroupSpec
from tests.badges.helpers import award, make_published, verify_served
from tests.base import CaptureCallbacks, Cast
from tests.frameworks.helpers import draft_micro, level, place, system

pytestmark = pytest.mark.django_db

LEARNER = "learner@example.com"


def placed(cast: Cast, slug: str, nz_level: str = "4", credits: str = "15") -> AchievementVersion:
    draft = draft_micro(cast.editor, cast.issuer, slug)
    place(
        cast.editor,
        draft,
        levels=(("nzqcf", nz_level),),
        credits=(("nzqcf-credit", credits),),
        notional_hours=int(credits) * 10,
    )
    return achievement_services.publish_version(actor=cast.editor, version=draft)


def three_badge_pathway(cast: Cast) -> tuple[Pathway, list[AchievementVersion]]:
    parts = [placed(cast, slug) for slug in ("data-cleaning", "data-charts", "data-stories")]
    target = make_published(
        cast.editor, cast.issuer, "data-certificate", achievement_type="Certificate"
    )
    pathway = pathway_services.create_pathway(
        actor=cast.editor,
        institution=cast.institution,
        title_en="Data analyst pathway",
        target=target.achievement,
        root=GroupSpec(rule="all", achievements=[p.achievement for p in parts]),
    )
    return pathway, parts


def test_the_pathway_credential_awards_itself_when_the_third_badge_is_awarded(
    cast: Cast, client: Client, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    pathway, parts = three_badge_pathway(cast)
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, parts[0], email=LEARNER)
        award(cast.awarder, parts[1], email=LEARNER)
    progress = pathway_selectors.evaluate(pathway, LEARNER)
    assert (progress.met, progress.done, progress.needed) == (False, 2, 3)
    assert pathway_selectors.completion_of(pathway, LEARNER) is None

    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, parts[2], email=LEARNER)

    completion = pathway_selectors.completion_of(pathway, LEARNER)
    assert completion is not None
    assert completion.award.achievement_version.achievement == pathway.target
    assert completion.award.recipient_email == LEARNER
    assert completion.counted.count() == 3
    clr = json.loads(client.get(reverse("pathway_clr", args=[completion.pk])).content)
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    subject = clr["credentialSubject"]
    assert len(subject["verifiableCredential"]) == 4
    assert {a["associationType"] for a in subject["association"]} == {"isChildOf"}
    assert len(subject["association"]) == 3
    assert verify_served(client, clr).verified
    for embedded in subject["verifiableCredential"]:
        assert verify_served(client, embedded).verified


def test_the_pathway_is_awarded_only_once(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    pathway, parts = three_badge_pathway(cast)
    with django_capture_on_commit_callbacks(execute=True):
        for part in parts:
            award(cast.awarder, part, email=LEARNER)
        award(cast.awarder, parts[0], email=LEARNER)

    assert Award.objects.filter(achievement_version__achievement=pathway.target).count() == 1


def test_credits_at_a_level_count_only_from_badges_at_that_level_or_above(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    low = placed(cast, "intro", nz_level="3", credits="20")
    mid = placed(cast, "core", nz_level="4", credits="15")
    high = placed(cast, "advanced", nz_level="5", credits="15")
    target = make_published(cast.editor, cast.issuer, "diploma", achievement_type="Certificate")
    pathway = pathway_services.create_pathway(
        actor=cast.editor,
        institution=cast.institution,
        title_en="30 credits at level 4",
        target=target.achievement,
        root=GroupSpec(
            rule="min_credits",
            achievements=[low.achievement, mid.achievement, high.achievement],
            min_credits=Decimal(30),
            credit_system=system("nzqcf-credit"),
            min_level=level("nzqcf", "4"),
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, low, email=LEARNER)
        award(cast.awarder, mid, email=LEARNER)
    assert pathway_selectors.evaluate(pathway, LEARNER).credits == 15
    assert pathway_selectors.completion_of(pathway, LEARNER) is None

    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, high, email=LEARNER)

    assert pathway_selectors.completion_of(pathway, LEARNER) is not None


def test_at_least_n_of_a_nested_group(cast: Cast) -> None:
    core = placed(cast, "core")
    options = [placed(cast, f"option-{n}") for n in range(3)]
    target = make_published(cast.editor, cast.issuer, "cert", achievement_type="Certificate")
    pathway = pathway_services.create_pathway(
        actor=cast.editor,
        institution=cast.institution,
        title_en="Core and two options",
        target=target.achievement,
        root=GroupSpec(
            rule="all",
            achievements=[core.achievement],
            children=[
                GroupSpec(
                    rule="at_least_n",
                    required_count=2,
                    achievements=[o.achievement for o in options],
                )
            ],
        ),
    )
    award(cast.awarder, core, email=LEARNER)
    award(cast.awarder, options[2], email=LEARNER)
    assert not pathway_selectors.evaluate(pathway, LEARNER).met

    award(cast.awarder, options[0], email=LEARNER)

    assert pathway_selectors.evaluate(pathway, LEARNER).met


def test_a_revoked_counted_badge_flags_the_completion_for_review(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    pathway, parts = three_badge_pathway(cast)
    with django_capture_on_commit_callbacks(execute=True):
        given = [award(cast.awarder, part, email=LEARNER) for part in parts]
    assert pathway_selectors.needing_review(cast.institution) == []

    revocation_services.revoke_award(
        actor=cast.editor, award=given[1], reason="Plagiarised portfolio"
    )

    (flagged,) = pathway_selectors.needing_review(cast.institution)
    assert flagged.pathway == pathway
    assert flagged.revoked_counted() == [given[1]]
    assert not pathway_selectors.evaluate(pathway, LEARNER).met


def test_another_learners_badges_do_not_count(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    pathway, parts = three_badge_pathway(cast)
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, parts[0], email=LEARNER)
        award(cast.awarder, parts[1], email=LEARNER)
        award(cast.awarder, parts[2], email="someone.else@example.com")
    assert pathway_selectors.completion_of(pathway, LEARNER) is None


def test_a_pathway_cannot_use_another_institutions_badges(cast: Cast) -> None:
    theirs = make_published(cast.outsider, cast.other_issuer, "theirs")
    target = make_published(cast.editor, cast.issuer, "cert", achievement_type="Certificate")
    with pytest.raises(ValidationError):
        pathway_services.create_pathway(
            actor=cast.editor,
            institution=cast.institution,
            title_en="Borrowed",
            target=target.achievement,
            root=GroupSpec(rule="all", achievements=[theirs.achievement]),
        )


def test_the_demo_pathway_awards_itself_to_the_demo_learner(
    client: Client, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    import io

    from django.core.management import call_command

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    pathway = Pathway.objects.get(title_en="Data professional pathway")
    completion = pathway_selectors.completion_of(pathway, "aroha.learner@demo.insignia.test")
    assert completion is not None
    assert completion.award.credential["name"] == "Data Professional Certificate"
    assert completion.counted.count() == 3
    assert verify_served(client, completion.clr).verified


def test_staff_see_a_learners_progress_and_the_flag_for_review(
    cast: Cast, client: Client, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    _pathway, parts = three_badge_pathway(cast)
    with django_capture_on_commit_callbacks(execute=True):
        given = [award(cast.awarder, part, email=LEARNER) for part in parts[:2]]
    client.force_login(cast.viewer)
    url = reverse("manage:pathways", args=[cast.institution.slug])

    body = client.get(url, {"email": LEARNER}).content.decode()

    assert "Data analyst pathway" in body
    assert "All of (2 of 3 done)" in body
    assert "○ data-stories" in body
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, parts[2], email=LEARNER)
    revocation_services.revoke_award(actor=cast.editor, award=given[0], reason="Error")
    body = client.get(url, {"email": LEARNER}).content.decode()
    assert "Completed and awarded." in body
    assert "Needs review" in body
