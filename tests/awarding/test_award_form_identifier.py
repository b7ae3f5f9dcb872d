"""Staff award to a student number or a sign-in name from the console (issue 15 §4), and see
it in the awards list and on the award's page."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from badges.models import Award
from tests.badges.helpers import make_published
from tests.base import CaptureCallbacks, Cast

pytestmark = pytest.mark.django_db


def _award_url(cast: Cast) -> str:
    version = make_published(cast.editor, cast.issuer)
    return f"/manage/poly/achievements/{version.achievement_id}/award/"


def test_an_awarder_awards_to_a_student_number_without_an_e_mail(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    url = _award_url(cast)
    client.force_login(cast.awarder)
    form = client.get(url).content.decode()
    assert "Student number or sign-in name" in form

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "email": "",
                "identifier_type": "studentId",
                "identifier": " 2026 1234 ",
                "name": "Lee Learner",
                "language": "en",
            },
            follow=True,
        )

    body = response.content.decode()
    assert "Badge awarded to Student number: 20261234. No e-mail is sent" in body
    award = Award.objects.get()
    assert (award.recipient_email, award.recipient_identifier) == ("", "20261234")
    assert "Student number: 20261234" in body  # the awards list it lands on
    assert "No e-mail address" in body
    assert "Resend e-mail" not in body
    assert mail.outbox == []
    detail = client.get(f"/manage/poly/awards/{award.pk}/").content.decode()
    assert "Student number: 20261234" in detail


def test_an_e_mail_alone_still_awards_and_the_kind_menu_is_ignored(
    client: Client, cast: Cast
) -> None:
    url = _award_url(cast)
    client.force_login(cast.awarder)
    response = client.post(
        url,
        {"email": "lee@example.com", "identifier_type": "studentId", "language": "en"},
        follow=True,
    )
    assert "Badge awarded." in response.content.decode()
    award = Award.objects.get()
    assert (award.recipient_email, award.recipient_identifier_type) == ("lee@example.com", "")


def test_an_e_mail_and_a_sign_in_name_are_both_shown(client: Client, cast: Cast) -> None:
    url = _award_url(cast)
    client.force_login(cast.awarder)
    client.post(
        url,
        {
            "email": "lee@example.com",
            "identifier_type": "sourcedId",
            "identifier": "LLearner@Poly.ac.nz",
            "language": "en",
        },
    )
    award = Award.objects.get()
    body = client.get(f"/manage/poly/awards/{award.pk}/").content.decode()
    assert "lee@example.com" in body
    assert "Sign-in name: llearner@poly.ac.nz" in body


def test_the_form_asks_for_a_learner_when_none_is_given(client: Client, cast: Cast) -> None:
    url = _award_url(cast)
    client.force_login(cast.awarder)
    response = client.post(url, {"email": "", "identifier": "", "language": "en"})
    assert response.status_code == 400
    assert (
        "Enter the learner&#x27;s e-mail address, a student number or sign-in name, or both."
        in response.content.decode()
    )
    assert not Award.objects.exists()
