"""The one-step claim (issue 20 item 5; review defects D5, D13, D15, D16): signing up from a
claim link needs no second e-mail, the claim asks about the learner's name, and learners see
neither a sign-up pitch once signed in nor a staff link they cannot use."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from awarding.revocation import services as revocation_services
from badges.models import Award, AwardNotification
from badges.notifications import links
from earners.models import AwardPreference, LearnerEmail
from tests.badges.helpers import award, make_published
from tests.base import PASSWORD, Cast
from tests.earners.helpers import make_learner

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    """Sign-up e-mails are limited per address and hour; each test starts with none sent."""
    cache.clear()


Capture = Callable[..., Any]


def _emailed(cast: Cast, capture: Capture, email: str = "ana@example.com") -> Award:
    """An award whose e-mail (with the claim link) was sent to ``email``."""
    version = make_published(cast.editor, cast.issuer)
    with capture(execute=True):
        issued = award(cast.awarder, version, email=email, name="Ana Tester")
    assert AwardNotification.objects.filter(award=issued, sent_at__isnull=False).exists()
    mail.outbox.clear()
    return issued


def _claim(issued: Award) -> str:
    return reverse("claim", args=[links.claim_token(issued)])


def _signup(issued: Award) -> str:
    return f"/backpack/signup/?{urlencode({'claim': links.claim_token(issued)})}"


def test_sign_up_from_the_claim_link_is_prefilled_and_puts_the_badge_in_the_backpack(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    issued = _emailed(cast, django_capture_on_commit_callbacks)

    form = client.get(_signup(issued)).content.decode()
    assert 'value="Ana Tester"' in form and 'value="ana@example.com"' in form

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _signup(issued),
            {"name": "Ana Tester", "email": "ana@example.com", "password": PASSWORD},
        )

    # Signed in at once and back on the claim (not yet accepted): no second e-mail.
    assert response.status_code == 302
    assert response["Location"] == _claim(issued)
    assert mail.outbox == []
    backpack = client.get("/backpack/").content.decode()
    assert "Data Literacy" in backpack
    assert "No badges yet" not in backpack
    assert "Confirm these addresses" not in backpack
    assert LearnerEmail.objects.get(email="ana@example.com").verified_at is not None


def test_accept_then_sign_up_lands_on_the_badge_in_the_backpack_with_the_name_choice(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    issued = _emailed(cast, django_capture_on_commit_callbacks)
    page = client.get(_claim(issued)).content.decode()
    assert 'name="show_name"' in page

    accepted = client.post(
        reverse("earners:claim_accept", args=[links.claim_token(issued)]),
        {"show_name": "yes", "then": "signup"},
    )
    assert accepted["Location"] == _signup(issued)
    issued.refresh_from_db()
    assert issued.claimed_at is not None
    assert AwardPreference.objects.get(award=issued).show_name is True

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _signup(issued),
            {"name": "Ana Tester", "email": "ana@example.com", "password": PASSWORD},
        )
    assert response["Location"] == f"/backpack/badges/{issued.pk}/"
    assert mail.outbox == []
    badge = client.get(response["Location"]).content.decode()
    assert "Data Literacy" in badge
    # The choice made at the claim is the learner's privacy setting now.
    assert re.search(r'<input type="checkbox" name="show_name"[^>]*checked', badge)
    assert AwardPreference.objects.get(award=issued).user == User.objects.get(
        email="ana@example.com"
    )


def test_keeping_the_name_hidden_at_the_claim_is_stored(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    issued = _emailed(cast, django_capture_on_commit_callbacks)
    url = reverse("earners:claim_accept", args=[links.claim_token(issued)])

    # No choice made: nothing is accepted, and the page says what is missing.
    refused = client.post(url, {})
    assert refused["Location"] == _claim(issued)
    issued.refresh_from_db()
    assert issued.claimed_at is None
    assert (
        "Choose whether the badge page shows your name"
        in client.get(_claim(issued)).content.decode()
    )

    client.post(url, {"show_name": "no"})
    assert AwardPreference.objects.get(award=issued).show_name is False
    # A second post of the link cannot change the choice behind the learner's back.
    client.post(url, {"show_name": "yes"})
    assert AwardPreference.objects.get(award=issued).show_name is False


def test_a_different_address_still_needs_its_confirmation_e_mail(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    issued = _emailed(cast, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _signup(issued),
            {"name": "Ana", "email": "someone.else@example.com", "password": PASSWORD},
        )

    assert response["Location"] == "/backpack/signup/sent/"
    assert [m.to for m in mail.outbox] == [["someone.else@example.com"]]
    assert client.get("/backpack/")["Location"].startswith("/backpack/login/")
    assert not LearnerEmail.objects.filter(verified_at__isnull=False).exists()


def test_a_forged_old_or_revoked_claim_link_confirms_nothing(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    issued = _emailed(cast, django_capture_on_commit_callbacks)
    token = links.claim_token(issued)
    body = {"name": "Ana", "email": "ana@example.com", "password": PASSWORD}

    # Forged: the form is not filled in and sign-up takes the ordinary, e-mailed route.
    forged = client.get(f"/backpack/signup/?claim={token}x").content.decode()
    assert "ana@example.com" not in forged
    assert client.get("/backpack/signup/?claim=a/b").status_code == 200
    # Sent too long ago: the link no longer proves the address.
    AwardNotification.objects.filter(award=issued).update(
        sent_at=timezone.now() - dt.timedelta(days=91)
    )
    with django_capture_on_commit_callbacks(execute=True):
        old = client.post(_signup(issued), body)
    assert old["Location"] == "/backpack/signup/sent/"
    assert len(mail.outbox) == 1
    assert not LearnerEmail.objects.filter(verified_at__isnull=False).exists()

    User.objects.filter(email="ana@example.com").delete()
    AwardNotification.objects.filter(award=issued).update(sent_at=timezone.now())
    revocation_services.revoke_award(actor=cast.editor, award=issued, reason="Wrong person")
    with django_capture_on_commit_callbacks(execute=True):
        revoked = client.post(_signup(issued), body)
    assert revoked["Location"] == "/backpack/signup/sent/"
    assert not LearnerEmail.objects.filter(verified_at__isnull=False).exists()


def test_an_address_with_an_account_is_not_taken_over_by_the_link(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    owner = make_learner("ana@example.com")
    issued = _emailed(cast, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _signup(issued),
            {"name": "Mallory", "email": "ana@example.com", "password": PASSWORD + "x"},
        )

    assert response["Location"] == "/backpack/signup/sent/"
    assert "_auth_user_id" not in client.session
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_signed_in_learner_is_not_offered_an_account_after_accepting(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    learner = make_learner("ana@example.com")
    issued = _emailed(cast, django_capture_on_commit_callbacks)
    client.force_login(learner)

    before = client.get(_claim(issued)).content.decode()
    assert "Create a free learner account" not in before
    response = client.post(
        reverse("earners:claim_accept", args=[links.claim_token(issued)]), {"show_name": "yes"}
    )
    assert response["Location"] == f"/backpack/badges/{issued.pk}/"
    after = client.get(_claim(issued)).content.decode()
    assert "It is yours" in after
    assert "Create a free learner account" not in after
    assert "Create an account to keep it" not in after
    assert AwardPreference.objects.get(award=issued).user == learner


def test_the_staff_console_link_is_for_staff_only(client: Client, cast: Cast) -> None:
    client.force_login(make_learner("ana@example.com"))
    assert "Staff console" not in client.get("/backpack/").content.decode()

    client.force_login(cast.awarder)
    assert "Staff console" in client.get("/backpack/").content.decode()
