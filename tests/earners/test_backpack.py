"""A learner's account and backpack: sign-up, confirmed addresses, badges from every
confirmed address, filters, downloads, and that no learner sees another's badges."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from awarding.revocation import services as revocation_services
from badges.models import Award
from earners import services
from earners.models import LearnerEmail
from tests.badges.helpers import award, make_published
from tests.base import PASSWORD, Cast
from tests.earners.helpers import make_learner

pytestmark = pytest.mark.django_db


def test_signing_up_sends_a_link_that_signs_in_and_badges_appear_once_confirmed(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: object
) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="lee@example.com")
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = client.post(
            "/backpack/signup/",
            {"email": "Lee@Example.com", "password": PASSWORD, "name": "Lee"},
        )
    # The page cannot tell a new address from a known one, so it only says "check your
    # e-mail"; the learner is signed in by the link.
    assert response.status_code == 302
    assert response["Location"] == "/backpack/signup/sent/"
    assert client.get("/backpack/")["Location"].startswith("/backpack/login/")

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["lee@example.com"]
    link = re.search(r"https?://\S+/backpack/emails/verify/\S+/", str(mail.outbox[0].body))
    assert link is not None
    path = "/" + link.group(0).split("://", 1)[1].split("/", 1)[1]
    confirmed = client.get(path)
    assert confirmed.status_code == 302 and confirmed["Location"] == "/backpack/"

    page = client.get("/backpack/").content.decode()
    assert "Data Literacy" in page
    assert (
        "lee@example.com"
        not in client.get(f"/credentials/{Award.objects.get().pk}").content.decode()
    )


def test_signup_with_a_claim_token_continues_to_the_claim_after_the_link(
    client: Client, db: None, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = client.post(
            "/backpack/signup/?claim=abc123", {"email": "c@example.com", "password": PASSWORD}
        )
    assert response.status_code == 302
    link = re.search(r"https?://\S+(/backpack/emails/verify/\S+)", str(mail.outbox[0].body))
    assert link is not None
    assert client.get(link.group(1))["Location"] == "/claim/abc123"


def test_a_forged_or_tampered_confirmation_link_is_refused(client: Client, db: None) -> None:
    user = services.sign_up(email="x@example.com", password=PASSWORD)
    row = LearnerEmail.objects.get(user=user)
    token = services.verification_token(row)
    response = client.get(f"/backpack/emails/verify/{token[:-2]}xx/")
    assert response.status_code == 400
    row.refresh_from_db()
    assert row.verified_at is None


def test_awards_to_any_confirmed_address_appear_together(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    other = make_published(cast.editor, cast.issuer, slug="python", name_en="Python Basics")
    award(cast.awarder, version, email="lee@example.com")
    award(cast.awarder, other, email="lee@work.example")
    learner = make_learner("lee@example.com", "lee@work.example")
    client.force_login(learner)

    page = client.get("/backpack/").content.decode()

    assert "Data Literacy" in page and "Python Basics" in page


def test_an_unconfirmed_address_brings_no_badges(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="someone@else.example")
    learner = make_learner("lee@example.com")
    services.add_email(user=learner, email="someone@else.example")  # never confirmed
    client.force_login(learner)

    assert "Data Literacy" not in client.get("/backpack/").content.decode()


def test_an_address_confirmed_by_one_learner_cannot_be_confirmed_by_another(db: None) -> None:
    make_learner("first@example.com", "shared@example.com")
    second = make_learner("second@example.com")
    with pytest.raises(ValidationError, match="already verified"):
        services.add_email(user=second, email="shared@example.com")


def test_the_backpack_filters_by_issuer_skill_and_status(client: Client, cast: Cast) -> None:
    data = make_published(cast.editor, cast.issuer)
    art = make_published(
        cast.outsider, cast.other_issuer, slug="drawing", name_en="Drawing", tags=["art"]
    )
    kept = award(cast.awarder, data, email="lee@example.com")
    award(cast.outsider, art, email="lee@example.com")
    learner = make_learner("lee@example.com")
    client.force_login(learner)

    by_issuer = client.get("/backpack/", {"issuer": cast.other_issuer.slug}).content.decode()
    by_skill = client.get("/backpack/", {"skill": "statistics"}).content.decode()
    revocation_services.revoke_award(actor=cast.owner, award=kept, reason="Error")
    revoked = client.get("/backpack/", {"status": "revoked"}).content.decode()
    valid = client.get("/backpack/", {"status": "valid"}).content.decode()

    assert "Drawing" in by_issuer and "Data Literacy</a>" not in by_issuer
    assert "Data Literacy</a>" in by_skill and "Drawing</a>" not in by_skill
    assert "Data Literacy</a>" in revoked and "Drawing</a>" not in revoked
    assert "Drawing</a>" in valid and "Data Literacy</a>" not in valid


def test_a_learner_never_sees_another_learners_badges_collections_or_views(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    theirs = award(cast.awarder, version, email="ann@example.com")
    ann = make_learner("ann@example.com", name="Ann")
    collection = services.create_collection(user=ann, name="For jobs", awards=[theirs])
    bob = make_learner("bob@example.com", name="Bob")
    client.force_login(bob)

    assert "Data Literacy" not in client.get("/backpack/").content.decode()
    assert client.get(f"/backpack/badges/{theirs.pk}/").status_code == 404
    assert (
        client.post(f"/backpack/badges/{theirs.pk}/", {"visibility": "public"}).status_code == 404
    )
    assert client.get(f"/backpack/badges/{theirs.pk}/certificate.pdf").status_code == 404
    assert client.get(f"/backpack/collections/{collection.pk}/").status_code == 404
    assert client.post(f"/backpack/collections/{collection.pk}/").status_code == 404
    assert "For jobs" not in client.get("/backpack/collections/").content.decode()
    collection.refresh_from_db()
    assert collection.revoked_at is None
    with pytest.raises(PermissionDenied):
        services.create_collection(user=bob, name="Stolen", awards=[theirs])


def test_backpack_pages_ask_anonymous_visitors_to_sign_in(client: Client, db: None) -> None:
    response = client.get("/backpack/")
    assert response.status_code == 302
    assert response["Location"].startswith("/backpack/login/")


def test_the_badge_page_in_the_backpack_offers_every_download(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    mine = award(cast.awarder, version, email="lee@example.com")
    client.force_login(make_learner("lee@example.com"))

    page = client.get(f"/backpack/badges/{mine.pk}/").content.decode()

    for suffix in (".png", ".svg", ".json", "/certificate.pdf"):
        assert f"{mine.pk}{suffix}" in page


def test_a_claim_link_confirms_its_address_so_the_badge_joins_the_backpack(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="claimed@example.com")
    learner = make_learner("lee@example.com")
    services.confirm_address_from_claim(user=learner, email="Claimed@Example.com")
    client.force_login(learner)

    assert "Data Literacy" in client.get("/backpack/").content.decode()
    other = make_learner("bob@example.com")
    with pytest.raises(ValidationError):
        services.confirm_address_from_claim(user=other, email="claimed@example.com")
