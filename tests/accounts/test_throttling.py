"""Sign-in that resists guessing: a hundred wrong passwords from one client end in a
cool-down on every password form, during which the right password signs nobody in; another
client is held only by the limit per address; reset and sign-up are limited too.

Real middleware, real django-axes tables on PostgreSQL; the cool-down is ended by moving the
stored attempts back in time, as the clock would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts import throttling
from accounts.models import User
from tests.base import PASSWORD, Cast, make_user
from tests.earners.helpers import make_learner
from verification import ratelimit

pytestmark = pytest.mark.django_db

FORMS = {
    "staff": "/manage/login/",
    "learner": "/backpack/login/",
    "admin": "/admin/login/",
}


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _sign_in(client: Client, url: str, email: str, password: str) -> int:
    return client.post(url, {"username": email, "password": password}).status_code


def _signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def _end_cool_down() -> None:
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1)
    )


def _account_for(form: str) -> User:
    if form == "learner":
        return make_learner("lee@example.com")
    user = make_user("owner@poly.example")
    if form == "admin":
        user.is_staff = user.is_superuser = True
        user.save()
    return user


@pytest.mark.parametrize("form", list(FORMS))
def test_a_hundred_wrong_passwords_end_in_a_cool_down_the_right_one_cannot_pass(
    client: Client, form: str
) -> None:
    url = FORMS[form]
    user = _account_for(form)
    statuses = [_sign_in(client, url, user.email, f"wrong-{n}") for n in range(100)]

    first_refusal = statuses.index(429)
    print(  # noqa: T201 (the figure the issue asks for; shown by pytest -s)
        f"\n{form} sign-in ({url}): {first_refusal} wrong passwords answered, "
        f"cool-down from failure {first_refusal + 1}; {statuses.count(429)} of 100 refused"
    )
    assert first_refusal == settings.INSIGNIA_SIGNIN_FAILURES_PER_CLIENT - 1 == 4
    assert set(statuses[:first_refusal]) == {200}
    assert set(statuses[first_refusal:]) == {429}

    locked = client.post(url, {"username": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert not _signed_in(client)
    page = locked.content.decode()
    assert "Too many sign-in attempts. Try again in 15 minutes." in page
    assert 'href="/manage/password-reset/"' in page
    # Refused attempts do not count, so the cool-down announced is the real one.
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 5

    _end_cool_down()
    response = client.post(url, {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert _signed_in(client) and client.session[SESSION_KEY] == str(user.pk)
    assert not AccessAttempt.objects.exists()  # AXES_RESET_ON_SUCCESS


def test_the_page_is_in_chinese_for_a_chinese_reader(client: Client, cast: Cast) -> None:
    for n in range(5):
        _sign_in(client, "/manage/login/", cast.owner.email, f"wrong-{n}")

    page = client.post(
        "/manage/login/",
        {"username": cast.owner.email, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )

    assert page.status_code == 429
    assert "登录尝试次数过多。请 15 分钟后再试。" in page.content.decode()


def test_the_address_is_counted_however_it_is_written(client: Client, cast: Cast) -> None:
    for n, written in enumerate(
        ["Owner@Poly.example", "OWNER@POLY.EXAMPLE", " owner@poly.example"]
    ):
        _sign_in(client, "/admin/login/", written, f"wrong-{n}")
    for n in range(2):
        _sign_in(client, "/manage/login/", "owner@poly.example", f"again-{n}")

    assert _sign_in(client, "/backpack/login/", "owner@Poly.Example", PASSWORD) == 429


def test_another_client_is_held_only_by_the_limit_for_the_address(cast: Cast) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    owner = Client(REMOTE_ADDR="198.51.100.20")
    for n in range(10):
        _sign_in(attacker, "/manage/login/", cast.owner.email, f"wrong-{n}")

    assert _sign_in(attacker, "/manage/login/", cast.owner.email, PASSWORD) == 429
    assert _sign_in(owner, "/manage/login/", cast.owner.email, PASSWORD) == 302
    assert _signed_in(owner)

    # Guesses spread over many clients still meet the limit per address (20 from anywhere).
    AccessAttempt.objects.all().delete()
    for n in range(settings.AXES_FAILURE_LIMIT):
        guesser = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
        assert _sign_in(guesser, "/manage/login/", cast.owner.email, f"wrong-{n}") in (200, 429)
    late = Client(REMOTE_ADDR="198.51.100.21")
    assert _sign_in(late, "/manage/login/", cast.owner.email, PASSWORD) == 429
    assert not _signed_in(late)
    # Another address from those clients is not held.
    assert _sign_in(late, "/manage/login/", cast.editor.email, PASSWORD) == 302


def test_behind_a_trusted_proxy_the_client_is_the_address_the_proxy_saw(
    cast: Cast, settings: object
) -> None:
    settings.INSIGNIA_TRUSTED_PROXIES = 1  # type: ignore[attr-defined]
    for n in range(5):
        spoofing = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.9")
        _sign_in(spoofing, "/manage/login/", cast.owner.email, f"wrong-{n}")
    same = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    other = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.3")

    assert _sign_in(same, "/manage/login/", cast.owner.email, PASSWORD) == 429
    assert _sign_in(other, "/manage/login/", cast.owner.email, PASSWORD) == 302


def test_resetting_the_password_from_the_mailed_link_ends_the_cool_down(
    client: Client, cast: Cast
) -> None:
    for n in range(5):
        _sign_in(client, "/manage/login/", cast.owner.email, f"wrong-{n}")
    client.post("/manage/password-reset/", {"email": cast.owner.email})
    (message,) = mail.outbox
    path = (
        "/manage/password-reset/" + str(message.body).split("/manage/password-reset/")[1].split()[0]
    )
    form = client.get(path, follow=True)
    set_url = form.redirect_chain[-1][0]
    client.post(
        set_url,
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )

    assert _sign_in(client, "/manage/login/", cast.owner.email, "a-new-long-passphrase") == 302


def test_password_reset_is_limited_per_address_and_per_client(cast: Cast) -> None:
    first = Client(REMOTE_ADDR="203.0.113.1")
    answers = [
        first.post("/manage/password-reset/", {"email": cast.owner.email}).status_code
        for _ in range(4)
    ]
    assert answers == [302, 302, 302, 429]
    assert len(mail.outbox) == settings.INSIGNIA_ACCOUNT_MAIL_PER_ADDRESS == 3

    # Another client gets no more mail to that address either…
    refused = Client(REMOTE_ADDR="203.0.113.2").post(
        "/manage/password-reset/", {"email": cast.owner.email}
    )
    assert refused.status_code == 429
    assert "Try again in" in refused.content.decode() and refused["Retry-After"]
    # …and one client cannot go through many addresses.
    many = Client(REMOTE_ADDR="203.0.113.3")
    codes = [
        many.post("/manage/password-reset/", {"email": f"n{n}@example.com"}).status_code
        for n in range(11)
    ]
    assert codes == [302] * 10 + [429]


def test_sign_up_is_limited_per_address_and_per_client(db: None) -> None:
    make_learner("lee@example.com")
    one = Client(REMOTE_ADDR="203.0.113.1")
    codes = [
        one.post(
            "/backpack/signup/", {"email": "lee@example.com", "password": "x-" + PASSWORD}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [302, 302, 302, 429]
    many = Client(REMOTE_ADDR="203.0.113.3")
    codes = [
        many.post(
            "/backpack/signup/", {"email": f"n{n}@example.com", "password": PASSWORD}
        ).status_code
        for n in range(11)
    ]
    assert codes == [302] * 10 + [429]
    assert User.objects.filter(email__startswith="n").count() == 10


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(
    cast: Cast,
) -> None:
    admin = make_user("root@poly.example")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    here, elsewhere = Client(), Client()
    assert _sign_in(here, "/admin/login/", admin.email, PASSWORD) == 302
    assert _sign_in(elsewhere, "/admin/login/", admin.email, PASSWORD) == 302

    changed = here.post(
        "/admin/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
    )

    assert changed.status_code == 302
    assert here.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/")["Location"].startswith("/admin/login/")
    assert not _signed_in(elsewhere)


def test_resetting_the_password_ends_every_session(client: Client, cast: Cast) -> None:
    other = Client()
    assert _sign_in(other, "/manage/login/", cast.owner.email, PASSWORD) == 302
    assert other.get("/manage/poly/").status_code == 200

    client.post("/manage/password-reset/", {"email": cast.owner.email})
    (message,) = mail.outbox
    path = (
        "/manage/password-reset/" + str(message.body).split("/manage/password-reset/")[1].split()[0]
    )
    set_url = client.get(path, follow=True).redirect_chain[-1][0]
    client.post(
        set_url,
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )

    refused = other.get("/manage/poly/")
    assert refused.status_code == 302 and refused["Location"].startswith("/manage/login/")
    assert not _signed_in(other)


def test_session_cookie_flags_stay_as_they_are() -> None:
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


@pytest.mark.parametrize("proxies", [0, 1, 2])
@pytest.mark.parametrize(
    "meta",
    [
        {"REMOTE_ADDR": "198.51.100.7"},
        {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "192.0.2.1, 203.0.113.9"},
        {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "2001:db8::1"},
    ],
)
def test_sign_in_and_the_verifier_see_the_same_client(
    settings: object, proxies: int, meta: dict[str, str]
) -> None:
    settings.INSIGNIA_TRUSTED_PROXIES = proxies  # type: ignore[attr-defined]
    request = RequestFactory().get("/", **meta)  # type: ignore[arg-type]

    assert throttling.client_ip(request) == ratelimit.client_key(request)
