"""No account enumeration: learner sign-up and password reset answer a known and an
unknown address with the same page, byte for byte (the CSRF token aside); only the e-mail,
which goes to the address itself, says which it was."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from badges.models import Award
from earners.models import LearnerEmail
from tests.badges.helpers import award, make_published
from tests.base import PASSWORD, CaptureCallbacks, Cast
from tests.earners.helpers import make_learner

pytestmark = pytest.mark.django_db

CSRF = re.compile(rb'(name="csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]+"')


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _page(response: object) -> bytes:
    return CSRF.sub(rb"\1CSRF", response.content)  # type: ignore[attr-defined]


def _answer(path: str, data: dict[str, str], captured: CaptureCallbacks) -> tuple[int, str, bytes]:
    """What a stranger sees: the status, where it leads, and the page shown there."""
    client = Client()
    with captured(execute=True):
        response = client.post(path, data)
    return response.status_code, response["Location"], _page(client.get(response["Location"]))


def _link(body: str, path: str) -> str:
    found = re.search(rf"https?://[^/\s]+({re.escape(path)}\S*)", body)
    assert found is not None, body
    return found.group(1)


def test_sign_up_answers_the_same_for_a_known_and_an_unknown_address(
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    make_learner("lee@example.com", name="Lee Learner")
    form = {"name": "Someone", "password": "x-" + PASSWORD}

    known = _answer(
        "/backpack/signup/",
        {**form, "email": "Lee@Example.com"},
        django_capture_on_commit_callbacks,
    )
    unknown = _answer(
        "/backpack/signup/",
        {**form, "email": "new@example.com"},
        django_capture_on_commit_callbacks,
    )

    assert known[0] == unknown[0] == 302
    assert known[1] == unknown[1] == "/backpack/signup/sent/"
    assert known[2].replace(b"lee@example.com", b"ADDRESS") == unknown[2].replace(
        b"new@example.com", b"ADDRESS"
    )
    assert b"Check your e-mail" in known[2]
    # No second account, and the first one is unchanged.
    assert User.objects.filter(email="lee@example.com").count() == 1
    signed_in = Client().post(
        "/backpack/login/", {"username": "lee@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 302  # the old password still signs in
    exists, confirm = mail.outbox
    assert exists.to == ["lee@example.com"] and confirm.to == ["new@example.com"]
    body = str(exists.body)
    assert "Someone tried to create an Insignia account with your address" in body
    assert _link(body, "/backpack/login/") and _link(body, "/manage/password-reset/")
    assert "/backpack/emails/verify/" not in body
    assert "/backpack/emails/verify/" in str(confirm.body)


def test_the_same_address_twice_gets_byte_identical_pages(
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    form = {"email": "new@example.com", "password": PASSWORD}
    first = _answer("/backpack/signup/", form, django_capture_on_commit_callbacks)  # no account
    second = _answer("/backpack/signup/", form, django_capture_on_commit_callbacks)  # has one

    assert first == second
    assert User.objects.filter(email="new@example.com").count() == 1
    assert [m.subject for m in mail.outbox] == [
        "Confirm your e-mail address for Insignia",
        "Your Insignia account already exists",
    ]


def test_a_refused_password_is_refused_alike_for_a_known_and_an_unknown_address(
    db: None,
) -> None:
    make_learner("lee@example.com")
    known = Client().post("/backpack/signup/", {"email": "lee@example.com", "password": "123"})
    unknown = Client().post("/backpack/signup/", {"email": "new@example.com", "password": "123"})

    assert known.status_code == unknown.status_code == 400
    assert _page(known).replace(b"lee@example.com", b"A") == _page(unknown).replace(
        b"new@example.com", b"A"
    )
    assert mail.outbox == []


def test_a_learner_who_signs_up_from_a_claim_link_ends_with_the_badge(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version, email="lee@example.com", name="Lee Learner")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/backpack/signup/?claim=the-token",
            {"email": "lee@example.com", "password": PASSWORD, "claim": "the-token"},
        )
    assert response["Location"] == "/backpack/signup/sent/"
    assert "_auth_user_id" not in client.session  # not signed in before the link

    (message,) = mail.outbox
    followed = client.get(_link(str(message.body), "/backpack/emails/verify/"))

    assert followed.status_code == 302 and followed["Location"] == "/claim/the-token"
    assert client.session["_auth_user_id"] == str(User.objects.get(email="lee@example.com").pk)
    assert "Data Literacy" in client.get("/backpack/").content.decode()
    assert Award.objects.get(pk=issued.pk).recipient_email == "lee@example.com"
    # Following the link again confirms nothing new and signs nobody else in.
    stranger = Client()
    again = stranger.get(_link(str(message.body), "/backpack/emails/verify/"))
    assert again["Location"] == "/backpack/login/" and "_auth_user_id" not in stranger.session


def test_the_confirmation_link_never_leads_off_the_site(
    client: Client, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/backpack/signup/?next=https://evil.example/",
            {"email": "lee@example.com", "password": PASSWORD, "next": "//evil.example/"},
        )
    (message,) = mail.outbox
    assert "evil" not in str(message.body)
    link = _link(str(message.body), "/backpack/emails/verify/")
    assert client.get(link + "?next=//evil.example/")["Location"] == "/backpack/"


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_password_reset_answers_the_same_and_mails_what_happened(cast: Cast, language: str) -> None:
    def answer(email: str) -> tuple[int, str, bytes]:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        response = client.post("/manage/password-reset/", {"email": email})
        return response.status_code, response["Location"], _page(client.get(response["Location"]))

    known = answer("owner@poly.example")
    unknown = answer("nobody@poly.example")

    assert known == unknown
    assert known[:2] == (302, "/manage/password-reset/sent/")
    link, note = mail.outbox
    assert link.to == ["owner@poly.example"] and "/manage/password-reset/" in str(link.body)
    assert note.to == ["nobody@poly.example"]
    assert "/manage/password-reset/M" not in str(note.body)  # no reset link for nobody
    if language == "en":
        assert "no account signs in with this address" in str(note.body)


def test_a_sign_up_for_a_staff_address_creates_nothing(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/backpack/signup/", {"email": "owner@poly.example", "password": "x-" + PASSWORD}
        )

    assert response["Location"] == "/backpack/signup/sent/"
    assert not LearnerEmail.objects.filter(email="owner@poly.example").exists()
    assert (
        Client()
        .post("/manage/login/", {"username": "owner@poly.example", "password": PASSWORD})
        .status_code
        == 302
    )
    (message,) = mail.outbox
    assert message.subject == "Your Insignia account already exists"
