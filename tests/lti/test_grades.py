"""Awarding from course grades, read from a real LTI platform's Assignment and Grade Services
and roster (``tests/lms``): exactly once per learner, never twice, never revoked by a grade
change (flagged for staff instead), and never across institutions."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
import requests
from django.core.cache import cache
from django.test import override_settings
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pytest_django.live_server_helper import LiveServer

from badges.models import AchievementVersion, Award, AwardStatus
from lti import launches, sync
from lti.models import Grant, GrantStatus, Launch, LmsAccount, Placement, Rule
from lti.tool import ToolRegistration
from tests.base import Cast
from tests.lms.server import Lms
from tests.lti.platform import Registered, connected_poly, launch, register
from tests.lti.test_launch import deep_link

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def poly(
    lms: Lms, live_server: LiveServer
) -> Iterator[tuple[Cast, AchievementVersion, Registered]]:
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        yield connected_poly(lms, live_server.url, "welding-safety")


def line_item_of(reg: Registered, link: str) -> str:
    items = [i for i in reg.lms.state()["line_items"] if i["resource_link_id"] == link]
    assert len(items) == 1, reg.lms.state()["line_items"]
    return str(items[0]["id"])


def test_a_score_rule_awards_exactly_the_learners_who_reach_it_once(
    poly: tuple[Cast, AchievementVersion, Registered],
) -> None:
    _cast, version, reg = poly
    link = deep_link(reg, version, Rule.SCORE, min_score="80")
    item = line_item_of(reg, link)
    reg.lms.set_grade(item, "alice", 85)
    reg.lms.set_grade(item, "bob", 79)
    placement = Placement.objects.get()

    first = sync.sync_placement(placement)
    second = sync.sync_placement(placement)

    assert (first.awarded, first.failed, first.errors) == (1, 0, [])
    assert (second.awarded, second.unchanged) == (0, 2)
    award = Award.objects.get()
    assert (award.recipient_email, award.recipient_name) == ("alice@lms.test", "Alice Learner")
    assert "score of 85%" in award.credential_json
    assert Grant.objects.get().lms_user_id == "alice"


def test_a_lower_grade_after_the_award_is_flagged_never_revoked(
    poly: tuple[Cast, AchievementVersion, Registered],
) -> None:
    _cast, version, reg = poly
    link = deep_link(reg, version, Rule.SCORE, min_score="80")
    item = line_item_of(reg, link)
    placement = Placement.objects.get()
    reg.lms.set_grade(item, "alice", 90)
    sync.sync_placement(placement)

    reg.lms.set_grade(item, "alice", 60)
    flagged = sync.sync_placement(placement)

    grant = Grant.objects.get()
    assert flagged.flagged == 1
    assert grant.status == GrantStatus.REVIEW
    assert grant.award is not None and grant.award.status == AwardStatus.ACTIVE
    assert "60%" in grant.note

    reg.lms.set_grade(item, "alice", 95)
    restored = sync.sync_placement(placement)
    assert restored.restored == 1
    assert Grant.objects.get().status == GrantStatus.AWARDED
    assert Award.objects.count() == 1


def test_a_named_gradebook_column_rule(poly: tuple[Cast, AchievementVersion, Registered]) -> None:
    _cast, version, reg = poly
    requests.post(
        reg.lms.url("/gradebook/columns"),
        data={"label": "Final project", "score_maximum": "10"},
        timeout=10,
    )
    deep_link(reg, version, Rule.COLUMN, column="final project")
    reg.lms.set_grade("Final project", "bob", 4)

    report = sync.sync_placement(Placement.objects.get())

    assert report.awarded == 1, report
    assert Award.objects.get().recipient_email == "bob@lms.test"


def test_a_missing_column_or_an_unreachable_lms_is_reported_not_raised(
    poly: tuple[Cast, AchievementVersion, Registered],
) -> None:
    _cast, version, reg = poly
    deep_link(reg, version, Rule.COLUMN, column="No such column")
    placement = Placement.objects.get()

    report = sync.sync_placement(placement)
    placement.refresh_from_db()
    assert "“No such column” was not found" in placement.last_check_error
    assert report.awarded == 0

    placement.course.platform.auth_token_url = "http://10.1.2.3/token"
    placement.course.platform.save()
    cache.clear()  # no token from the earlier check
    report = sync.sync_placement(Placement.objects.get())
    assert "could not be reached" in report.errors[0]


def test_the_instructor_who_lost_the_awarder_role_awards_nothing(
    poly: tuple[Cast, AchievementVersion, Registered],
) -> None:
    cast, version, reg = poly
    link = deep_link(reg, version, Rule.SCORE, min_score="50")
    reg.lms.set_grade(line_item_of(reg, link), "alice", 100)
    cast.awarder.memberships.all().delete()

    report = sync.sync_placement(Placement.objects.get())

    assert (report.awarded, report.failed) == (0, 1)
    assert "no longer holds the awarder role" in Grant.objects.get().note
    assert Award.objects.count() == 0


def test_another_institutions_lms_cannot_award_this_institutions_badges(
    poly: tuple[Cast, AchievementVersion, Registered], other_lms: Lms, live_server: LiveServer
) -> None:
    cast, version, reg = poly
    deep_link(reg, version, Rule.LAUNCH)
    ours = Placement.objects.get()
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        theirs = register(other_lms, cast.other_institution, live_server.url, name="Rival LMS")
    LmsAccount.objects.create(platform=theirs.platform, subject="instructor", user=cast.outsider)

    # 1. Their instructor's badge picker offers none of Poly's micro-credentials.
    session = requests.Session()
    picker = launch(session, other_lms.launch_url(theirs.client_id, "instructor", "deep-link"))
    assert version.name not in picker.text
    assert "You do not hold the awarder role" in picker.text

    # 2. A link forged to carry Poly's placement (signed with the rival's own tool key, as a
    #    rival instructor could) opens nothing and awards nothing.
    dl_launch = Launch.objects.filter(platform=theirs.platform).latest("created_at")
    settings_claim = launches.deep_linking(dl_launch.claims)
    resource = (
        DeepLinkResource()
        .set_url(live_server.url + f"/lti/{cast.other_institution.slug}/launch/")
        .set_title("Forged")
        .set_custom_params({"insignia_placement": str(ours.pk)})
    )
    forger = DeepLink(ToolRegistration(theirs.platform), theirs.deployment_id, settings_claim)  # type: ignore[arg-type]
    token = forger.get_response_jwt([resource])
    assert jwt.get_unverified_header(token)["kid"]
    back = requests.post(settings_claim["deep_link_return_url"], data={"JWT": token}, timeout=10)
    assert back.status_code == 200, back.text
    forged = [ln for ln in other_lms.state()["links"] if ln["title"] == "Forged"][-1]
    page = launch(requests.Session(), other_lms.launch_url(theirs.client_id, "alice", forged["id"]))
    assert version.name not in page.text
    assert Award.objects.count() == 0

    # 3. Their LMS at Poly's own URLs is simply not registered there.
    rival_at_poly = requests.Session()
    answer = rival_at_poly.get(
        other_lms.launch_url(theirs.client_id, "alice", "deep-link"), allow_redirects=True
    )
    assert answer.status_code == 200  # the rival's registration is at rival URLs: fine
    login = requests.get(
        live_server.url + f"/lti/{cast.institution.slug}/login/",
        params={
            "iss": theirs.platform.issuer,
            "login_hint": "alice",
            "client_id": theirs.client_id,
            "target_link_uri": live_server.url + f"/lti/{cast.institution.slug}/launch/",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert login.status_code == 404
    assert "not registered with Poly Technic" in login.text
