"""Partial credit: ``creditsEarned`` when a learner earns less than the credit
value, from the award form, a CSV column and the API; shown on the badge page, the verify
result and counted by pathways."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from achievements import services as achievement_services
from awarding.bulk import services as bulk_services
from badges.models import AchievementVersion, Award
from badges.tokens import services as token_services
from frameworks.pathways import selectors as pathway_selectors
from frameworks.pathways import services as pathway_services
from frameworks.pathways.trees import GroupSpec
from tests.badges.helpers import award, make_published, verify_served
from tests.base import CaptureCallbacks, Cast
from tests.frameworks.helpers import draft_micro, level, place, system

pytestmark = pytest.mark.django_db


def placed(cast: Cast, slug: str = "data-literacy", credits: str = "15") -> AchievementVersion:
    draft = draft_micro(cast.editor, cast.issuer, slug)
    place(
        cast.editor,
        draft,
        levels=(("nzqcf", "4"),),
        credits=(("nzqcf-credit", credits),),
        notional_hours=int(credits) * 10,
    )
    return achievement_services.publish_version(actor=cast.editor, version=draft)


def test_partial_credit_is_signed_into_the_credential_and_shown_in_words(
    cast: Cast, client: Client
) -> None:
    version = placed(cast)
    partial = award(cast.awarder, version, credits_earned=Decimal("10"))

    subject = partial.credential["credentialSubject"]
    assert subject["creditsEarned"] == 10
    assert subject["achievement"]["creditsAvailable"] == 15
    assert verify_served(client, partial.credential).verified

    page = client.get(reverse("credential", args=[partial.pk]), HTTP_ACCEPT="text/html")
    assert "10 of 15 earned" in page.content.decode()
    result = client.post(reverse("verify"), {"text": partial.credential_json})
    assert "10 of 15 earned" in result.content.decode()


def test_full_credit_is_not_written_as_credits_earned(cast: Cast) -> None:
    version = placed(cast)
    full = award(cast.awarder, version, credits_earned=Decimal("15"))
    plain = award(cast.awarder, version, email="other@example.com")

    assert "creditsEarned" not in full.credential["credentialSubject"]
    assert "creditsEarned" not in plain.credential["credentialSubject"]


@pytest.mark.parametrize(
    ("earned", "message"),
    [
        ("16", "between 0 and 15"),
        ("-1", "between 0 and 15"),
        ("7.125", "at most two decimals"),
    ],
)
def test_credits_earned_outside_the_credit_value_are_refused_and_nothing_is_stored(
    cast: Cast, earned: str, message: str
) -> None:
    version = placed(cast)
    with pytest.raises(ValidationError) as refused:
        award(cast.awarder, version, credits_earned=Decimal(earned))

    assert message in " ".join(refused.value.messages)
    assert Award.objects.count() == 0


def test_a_micro_credential_without_credits_cannot_award_part_of_them(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    with pytest.raises(ValidationError) as refused:
        award(cast.awarder, version, credits_earned=Decimal("3"))

    assert "no credit value" in " ".join(refused.value.messages)
    assert Award.objects.count() == 0


def test_the_award_form_offers_credits_earned_only_for_a_credit_bearing_micro_credential(
    cast: Cast, client: Client
) -> None:
    version = placed(cast)
    plain = make_published(cast.editor, cast.issuer, "plain-badge")
    client.force_login(cast.awarder)
    slug = cast.institution.slug

    form_page = client.get(reverse("manage:award_create", args=[slug, version.achievement_id]))
    assert 'name="credits_earned"' in form_page.content.decode()
    assert "all 15 credits" in form_page.content.decode()
    plain_page = client.get(reverse("manage:award_create", args=[slug, plain.achievement_id]))
    assert 'name="credits_earned"' not in plain_page.content.decode()

    too_many = client.post(
        reverse("manage:award_create", args=[slug, version.achievement_id]),
        {"email": "lee@example.com", "language": "en", "credits_earned": "20"},
    )
    assert too_many.status_code == 400
    assert "between 0 and 15" in too_many.content.decode()
    assert Award.objects.count() == 0

    client.post(
        reverse("manage:award_create", args=[slug, version.achievement_id]),
        {"email": "lee@example.com", "language": "en", "credits_earned": "7.5"},
    )
    (made,) = Award.objects.all()
    assert made.credential["credentialSubject"]["creditsEarned"] == 7.5


def test_a_csv_column_gives_each_learner_their_credits_with_errors_in_the_dry_run(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks, client: Client
) -> None:
    version = placed(cast)
    data = (
        b"Email,Name,Credits earned\n"
        b"ana@example.com,Ana,12\n"
        b"ben@example.com,Ben,\n"
        b"cho@example.com,Cho,lots\n"
        b"dee@example.com,Dee,40\n"
    )
    batch = bulk_services.create_batch(
        actor=cast.awarder, version=version, file_name="cohort.csv", data=data
    )
    errors = {row.number: row.errors for row in batch.rows.all()}
    assert errors[2] == [] and errors[3] == []
    assert errors[4][0]["column"] == "credits_earned"
    assert "not a number" in errors[4][0]["message"]
    assert "between 0 and 15" in errors[5][0]["message"]
    client.force_login(cast.awarder)
    page = client.get(reverse("manage:bulk_batch", args=[cast.institution.slug, batch.pk]))
    assert "Credits earned" in page.content.decode()

    fixed = bulk_services.create_batch(
        actor=cast.awarder,
        version=version,
        file_name="cohort.csv",
        data=b"Email,Credits earned\nana@example.com,12\nben@example.com,\n",
    )
    with django_capture_on_commit_callbacks(execute=True):
        bulk_services.start_batch(actor=cast.awarder, batch=fixed)
    earned = {
        a.recipient_email: a.credential["credentialSubject"].get("creditsEarned")
        for a in Award.objects.all()
    }
    assert earned == {"ana@example.com": 12, "ben@example.com": None}


def test_the_api_takes_credits_earned(cast: Cast, client: Client) -> None:
    version = placed(cast)
    _token, key = token_services.create_api_token(actor=cast.owner, issuer=cast.issuer, name="LMS")
    url = reverse("api_award_achievement", args=[version.achievement_id])
    body = {"awards": [{"email": "ana@example.com", "credits_earned": "9.5"}]}
    answer = client.post(
        url, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert answer.status_code == 201, answer.content
    (made,) = Award.objects.all()
    assert made.credential["credentialSubject"]["creditsEarned"] == 9.5

    body = {"awards": [{"email": "ben@example.com", "credits_earned": "99"}]}
    refused = client.post(
        url, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert refused.status_code == 400
    assert "between 0 and 15" in refused.content.decode()
    assert Award.objects.count() == 1


def test_a_pathway_counts_only_the_credits_a_learner_earned(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    first, second = placed(cast, "core"), placed(cast, "advanced")
    target = make_published(cast.editor, cast.issuer, "diploma", achievement_type="Certificate")
    pathway = pathway_services.create_pathway(
        actor=cast.editor,
        institution=cast.institution,
        title_en="Thirty credits",
        target=target.achievement,
        root=GroupSpec(
            rule="min_credits",
            achievements=[first.achievement, second.achievement],
            min_credits=Decimal(30),
            credit_system=system("nzqcf-credit"),
            min_level=level("nzqcf", "4"),
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, first, email="lee@example.com")
        award(cast.awarder, second, email="lee@example.com", credits_earned=Decimal("10"))

    progress = pathway_selectors.evaluate(pathway, "lee@example.com")
    assert progress.credits == Decimal(25)
    assert not progress.met
    assert pathway_selectors.completion_of(pathway, "lee@example.com") is None
