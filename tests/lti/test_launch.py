"""Launches from a real LTI 1.3 platform (``tests/lms``, on ``lti1p3platform``), walked with
``requests`` as a browser would: an instructor deep-links a badge, a learner's launch awards
and hands it over, and every broken launch is refused with a clear page and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.test import override_settings
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from badges.models import AchievementVersion, Award
from earners import selectors as earner_selectors
from lti.models import Grant, GrantStatus, Launch, LmsAccount, LoginState, Placement, Rule
from tests.base import PASSWORD, Cast
from tests.lms.server import Lms
from tests.lti.platform import (
    Registered,
    connected_poly,
    csrf,
    form_of,
    launch,
    post_launch,
    to_tool,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def poly(
    lms: Lms, live_server: LiveServer
) -> Iterator[tuple[Cast, AchievementVersion, Registered]]:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        yield connected_poly(lms, live_server.url, "welding-basics")


def deep_link(
    reg: Registered, version: AchievementVersion, rule: str = Rule.LAUNCH, **values: str
) -> str:
    """The instructor adds ``version`` to the course with ``rule``; the new link's id."""
    session = requests.Session()
    page = launch(session, reg.lms.launch_url(reg.client_id, "instructor", "deep-link"))
    assert page.status_code == 200, page.text[:2000]
    assert "Add a badge to your course" in page.text
    data = {
        **csrf(session, page.text),
        "achievement": str(version.achievement_id),
        "rule": rule,
        **values,
    }
    answer = session.post(page.url, data=data, timeout=20)
    assert answer.status_code == 200, answer.text[:3000]
    action, fields = form_of(answer.text)
    assert set(fields) == {"JWT"}
    back = session.post(action, data=fields, timeout=20)
    assert back.status_code == 200, back.text[:2000]
    links = [link for link in reg.lms.state()["links"] if link["tool"] == reg.client_id]
    return str(links[-1]["id"])


def test_a_learner_opening_the_badge_earns_it_and_adds_it_to_their_backpack(
    poly: tuple[Cast, AchievementVersion, Registered],
) -> None:
    _cast, version, reg = poly
    link = deep_link(reg, version, Rule.LAUNCH)
    placement = Placement.objects.get()
    assert (placement.rule, placement.course.title) == (Rule.LAUNCH, "Welding 101")

    alice = requests.Session()
    page = launch(alice, reg.lms.launch_url(reg.client_id, "alice", link))

    assert page.status_code == 200, page.text[:2000]
    assert "Badges in Welding 101" in page.text
    assert "You earned this badge" in page.text
    award = Award.objects.get()
    assert (award.recipient_email, award.recipient_identifier) == (
        "alice@lms.test",
        "s1001",
    )  # identifiers are kept case-folded
    account = LmsAccount.objects.get(subject="alice")
    assert account.user.email == "alice@lms.test"
    # The account is new and the address unconfirmed: only the launch can hand the award over.
    assert list(earner_selectors.backpack(account.user)) == []

    grant = Grant.objects.get()
    claimed = alice.post(
        page.url, data={**csrf(alice, page.text), "action": "claim", "grant": grant.pk}
    )
    assert "The badge is in your backpack." in claimed.text
    assert [a.pk for a in earner_selectors.backpack(account.user)] == [award.pk]

    again = launch(requests.Session(), reg.lms.launch_url(reg.client_id, "alice", link))
    assert "It is in your backpack." in again.text
    assert Award.objects.count() == 1  # opening it again awards nothing more


def test_bob_cannot_claim_alices_award(poly: tuple[Cast, AchievementVersion, Registered]) -> None:
    _cast, version, reg = poly
    link = deep_link(reg, version, Rule.LAUNCH)
    launch(requests.Session(), reg.lms.launch_url(reg.client_id, "alice", link))
    alices = Grant.objects.get(lms_user_id="alice")

    bob = requests.Session()
    page = launch(bob, reg.lms.launch_url(reg.client_id, "bob", link))
    answer = bob.post(
        page.url, data={**csrf(bob, page.text), "action": "claim", "grant": alices.pk}
    )

    assert "This badge is not yours to add." in answer.text
    assert not hasattr(alices.award, "holder") or alices.award.holder is None  # type: ignore[union-attr]


def refused_text(answer: requests.Response) -> str:
    assert answer.status_code in (400, 403, 404), (answer.status_code, answer.text[:1000])
    assert "The badge could not be opened" in answer.text
    return answer.text


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        ("aud", "not addressed to a course platform registered with Poly Technic"),
        ("key", "not signed with a key your course platform has published"),
        ("deployment", "deployment of the course platform that is not registered"),
        ("expired", "may have expired"),
    ],
)
def test_a_broken_launch_is_refused_with_a_clear_page(
    poly: tuple[Cast, AchievementVersion, Registered], tamper: str, says: str
) -> None:
    _cast, _version, reg = poly
    session = requests.Session()
    action, fields = to_tool(
        session, reg.lms.launch_url(reg.client_id, "alice", "deep-link", tamper)
    )

    text = refused_text(post_launch(session, action, fields))

    assert says in text.replace("&#x27;", "'").replace("&quot;", '"')
    assert Launch.objects.count() == 0
    assert LmsAccount.objects.filter(subject="alice").count() == 0


def test_the_same_launch_posted_twice_is_refused(
    poly: tuple[Cast, AchievementVersion, Registered],
) -> None:
    _cast, version, reg = poly
    link = deep_link(reg, version, Rule.LAUNCH)
    session = requests.Session()
    action, fields = to_tool(session, reg.lms.launch_url(reg.client_id, "alice", link))
    assert post_launch(session, action, fields).status_code == 200

    replayed = reg.lms.last_launch("alice")
    text = refused_text(
        post_launch(
            requests.Session(),
            replayed["redirect_uri"],
            {"id_token": replayed["id_token"], "state": replayed["state"]},
        )
    )
    assert "expired or was already used" in text
    assert Launch.objects.filter(subject="alice").count() == 1


def test_a_launch_answering_an_expired_login_is_refused(
    poly: tuple[Cast, AchievementVersion, Registered],
) -> None:
    _cast, _version, reg = poly
    session = requests.Session()
    action, fields = to_tool(session, reg.lms.launch_url(reg.client_id, "alice", "deep-link"))
    LoginState.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert "expired or was already used" in refused_text(post_launch(session, action, fields))


def test_a_launch_cannot_be_finished_in_another_browser(
    poly: tuple[Cast, AchievementVersion, Registered],
) -> None:
    _cast, _version, reg = poly
    session = requests.Session()
    action, fields = to_tool(session, reg.lms.launch_url(reg.client_id, "alice", "deep-link"))
    answer = post_launch(session, action, fields)
    target, _ = form_of(answer.text)
    origin = action.split("/lti/")[0]

    stranger = requests.Session()
    text = refused_text(stranger.post(origin + target))

    assert "started in another browser" in text
    assert LmsAccount.objects.count() == 1  # only the instructor's


def test_an_unconnected_instructor_is_asked_to_sign_in_and_then_connects(
    poly: tuple[Cast, AchievementVersion, Registered], live_server: LiveServer
) -> None:
    cast, _version, reg = poly
    LmsAccount.objects.all().delete()
    session = requests.Session()

    page = launch(session, reg.lms.launch_url(reg.client_id, "instructor", "deep-link"))
    assert "Connect your course account" in page.text
    assert "Request access" in page.text
    login_url = live_server.url + "/manage/login/?next=" + page.url.split(live_server.url)[1]
    form = session.get(login_url)
    signed_in = session.post(
        login_url,
        data={**csrf(session, form.text), "username": cast.awarder.email, "password": PASSWORD},
    )
    assert "Connect Ina Instructor" in signed_in.text, signed_in.text[:3000]
    done = session.post(signed_in.url, data={**csrf(session, signed_in.text), "action": "connect"})

    assert "Add a badge to your course" in done.text
    assert LmsAccount.objects.get(subject="instructor").user == cast.awarder


def test_an_instructor_without_an_account_can_ask_the_owners_for_access(
    poly: tuple[Cast, AchievementVersion, Registered], mailoutbox: list[Any]
) -> None:
    cast, _version, reg = poly
    LmsAccount.objects.all().delete()
    session = requests.Session()
    page = launch(session, reg.lms.launch_url(reg.client_id, "instructor", "deep-link"))

    asked = session.post(page.url, data={**csrf(session, page.text), "action": "request_access"})

    assert "Your request went to the owners of Poly Technic" in asked.text
    assert [m.to for m in mailoutbox] == [[cast.owner.email]]
    assert "Ina Instructor (ina@lms.test)" in mailoutbox[0].body
    assert "Welding 101" in mailoutbox[0].body


def test_a_learner_cannot_place_badges(poly: tuple[Cast, AchievementVersion, Registered]) -> None:
    _cast, _version, reg = poly
    session = requests.Session()
    # A deep-linking launch for a learner (an LMS would not send one; a forged hint might).
    page = launch(session, reg.lms.launch_url(reg.client_id, "alice", "deep-link"))

    assert "Only instructors can add badges to a course." in refused_text(page)
    assert Placement.objects.count() == 0


def test_expired_or_missing_grant_status_is_visible(
    poly: tuple[Cast, AchievementVersion, Registered],
) -> None:
    # The grant model's failure path: a learner with neither address nor identifier.
    _cast, version, reg = poly
    link = deep_link(reg, version, Rule.LAUNCH)
    reg.lms.set_email("bob", "")
    page = launch(requests.Session(), reg.lms.launch_url(reg.client_id, "bob", link))
    reg.lms.set_email("bob", "bob@lms.test")

    assert "Connect your course account" in page.text  # no address: no account made
    assert Grant.objects.get(lms_user_id="bob").status == GrantStatus.FAILED
