"""The console's "Badges from the course (LTI)" pages: what an LMS administrator is given,
registering a platform by hand (and what is refused), registration links, the badges placed
in courses with "Check now", the grade changes to review, and who may do what."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import Settings

from badges.models import AchievementVersion, Award
from issuers.models import AuditAction, AuditEvent
from lti import configuration, registration, selectors
from lti.models import (
    Course,
    Deployment,
    Grant,
    GrantStatus,
    Placement,
    Platform,
    RegistrationInvite,
    Rule,
)
from tests.badges.helpers import award, make_published
from tests.base import Cast

pytestmark = pytest.mark.django_db

MOODLE = "moodle.poly.test"


def _url(name: str, cast: Cast, *args: object) -> str:
    return reverse(f"manage:{name}", args=[cast.institution.slug, *args])


def _moodle_form(**overrides: str) -> dict[str, str]:
    site = f"https://{MOODLE}"
    return {
        "name": "Moodle",
        "issuer": site,
        "client_id": "Ab12Cd34",
        "deployment_ids": "1\n\n2\n1\n",
        "auth_login_url": f"{site}/mod/lti/auth.php",
        "auth_token_url": f"{site}/mod/lti/token.php",
        "auth_audience": "",
        "key_set_url": f"{site}/mod/lti/certs.php",
        "enabled": "on",
        **overrides,
    }


def _platform(cast: Cast, host: str = "lms.poly.test", *, other: bool = False) -> Platform:
    found = Platform.objects.create(
        institution=cast.other_institution if other else cast.institution,
        name="Rival LMS" if other else "Moodle",
        issuer=f"http://{host}",
        client_id="client-1",
        auth_login_url=f"http://{host}/mod/lti/auth.php",
        auth_token_url=f"http://{host}/mod/lti/token.php",
        key_set_url=f"http://{host}/mod/lti/certs.php",
    )
    Deployment.objects.create(platform=found, deployment_id="1")
    return found


def _placement(
    cast: Cast, platform: Platform, version: AchievementVersion, rule: str = Rule.SCORE
) -> Placement:
    host = platform.issuer.removeprefix("http://")
    course = Course.objects.create(
        platform=platform,
        deployment_id="1",
        context_id=f"course-{rule}",
        title="Statistics 101",
        lineitems_url=f"http://{host}/mod/lti/services.php/2/lineitems",
        memberships_url=f"http://{host}/mod/lti/services.php/CourseSection/2/bindings/1/memberships",
    )
    return Placement.objects.create(
        course=course,
        achievement=version.achievement,
        rule=rule,
        min_score=Decimal(80) if rule == Rule.SCORE else None,
        column="Final project" if rule == Rule.COLUMN else "",
        title=version.name_en,
        created_by=cast.awarder,
    )


def _grant(
    placement: Placement, awarded: Award, user: str, status: str = GrantStatus.REVIEW
) -> Grant:
    return Grant.objects.create(
        placement=placement,
        course=placement.course,
        line_item="http://lms.poly.test/lineitems/7",
        achievement=placement.achievement,
        lms_user_id=user,
        name=awarded.recipient_name,
        email=awarded.recipient_email,
        award=awarded,
        status=status,
        score=Decimal("85.00"),
        latest_score=Decimal("62.50"),
        note="The grade changed to 62.5% after the badge was awarded.",
    )


# --------------------------------------------------------------------------------------------
# The page and who may see it
# --------------------------------------------------------------------------------------------


def test_the_page_gives_the_lms_administrator_the_tool_urls(client: Client, cast: Cast) -> None:
    client.force_login(cast.editor)
    page = client.get(_url("lti", cast))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Badges from the course (LTI)" in body
    assert "Give these to your LMS administrator" in body
    for name in ("login", "launch", "jwks"):
        assert f"http://testserver{reverse(f'lti:{name}', args=['poly'])}" in body
    for scope in selectors.SCOPES:
        assert scope in body
    assert 'data-copy="lti-url-login"' in body
    # Editors see the page and the side navigation's link, not the owners' buttons.
    assert "Badges from the course</a>" in body
    assert "Register a platform by hand" not in body
    assert "Create a registration link" not in body


def test_only_editors_and_owners_see_the_page(client: Client, cast: Cast) -> None:
    client.force_login(cast.awarder)
    assert client.get(_url("lti", cast)).status_code == 403
    dashboard = client.get(reverse("manage:dashboard", args=[cast.institution.slug]))
    assert _url("lti", cast) not in dashboard.content.decode()
    client.force_login(cast.owner)
    assert _url("lti", cast) in client.get(_url("lti", cast)).content.decode()


def test_an_editor_cannot_reach_the_platform_pages(client: Client, cast: Cast) -> None:
    platform = _platform(cast)
    client.force_login(cast.editor)
    for url in (
        _url("lti_platform_new", cast),
        _url("lti_platform_edit", cast, platform.pk),
        _url("lti_platform_remove", cast, platform.pk),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, _moodle_form()).status_code == 403, url
    assert client.post(_url("lti_invite_new", cast), {"name": "Moodle"}).status_code == 403
    assert Platform.objects.count() == 1
    assert not RegistrationInvite.objects.exists()


def test_another_institutions_platform_is_not_found(client: Client, cast: Cast) -> None:
    theirs = _platform(cast, "lms.rival.test", other=True)
    client.force_login(cast.owner)
    for name in ("lti_platform_edit", "lti_platform_remove"):
        assert client.get(_url(name, cast, theirs.pk)).status_code == 404
        assert client.post(_url(name, cast, theirs.pk), _moodle_form()).status_code == 404
    assert Platform.objects.get(pk=theirs.pk).name == "Rival LMS"
    assert "Rival LMS" not in client.get(_url("lti", cast)).content.decode()


# --------------------------------------------------------------------------------------------
# Registering a platform by hand
# --------------------------------------------------------------------------------------------


def test_an_owner_registers_a_platform_by_hand(
    client: Client, cast: Cast, settings: Settings
) -> None:
    settings.INSIGNIA_FETCH_ALLOWLIST = {MOODLE: "127.0.0.1:9"}
    client.force_login(cast.owner)
    form = client.get(_url("lti_platform_new", cast))
    assert form.status_code == 200
    assert "/mod/lti/certs.php" in form.content.decode()  # where to find it, in the help

    response = client.post(
        _url("lti_platform_new", cast), _moodle_form(issuer=f"https://{MOODLE}/")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    platform = Platform.objects.get(institution=cast.institution)
    assert platform.issuer == f"https://{MOODLE}"  # as the platform names itself
    assert platform.client_id == "Ab12Cd34" and platform.enabled
    assert sorted(platform.deployments.values_list("deployment_id", flat=True)) == ["1", "2"]
    event = AuditEvent.objects.get(
        institution=cast.institution, action=AuditAction.LTI_PLATFORM_REGISTERED
    )
    assert event.actor == cast.owner and event.data["deployments"] == ["1", "2"]
    listed = client.get(_url("lti", cast)).content.decode()
    assert "Ab12Cd34" in listed and f"https://{MOODLE}" in listed

    edit = client.get(_url("lti_platform_edit", cast, platform.pk)).content.decode()
    assert "1\n2</textarea>" in edit
    changed = client.post(
        _url("lti_platform_edit", cast, platform.pk),
        _moodle_form(name="Moodle (campus)", deployment_ids="2\n3", enabled=""),
    )
    assert changed.status_code == 302
    platform.refresh_from_db()
    assert platform.name == "Moodle (campus)" and not platform.enabled
    assert sorted(platform.deployments.values_list("deployment_id", flat=True)) == ["2", "3"]
    change = AuditEvent.objects.get(action=AuditAction.LTI_PLATFORM_CHANGED)
    assert change.data["fields"] == ["enabled", "name", "deployments"]


def test_a_platform_needs_a_deployment(client: Client, cast: Cast, settings: Settings) -> None:
    settings.INSIGNIA_FETCH_ALLOWLIST = {MOODLE: "127.0.0.1:9"}
    client.force_login(cast.owner)
    response = client.post(_url("lti_platform_new", cast), _moodle_form(deployment_ids=" \n"))
    assert response.status_code == 400
    assert "Give at least one deployment ID." in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        configuration.save_platform(
            actor=cast.owner,
            institution=cast.institution,
            platform=Platform(
                name="Moodle",
                issuer=f"https://{MOODLE}",
                client_id="Ab12Cd34",
                auth_login_url=f"https://{MOODLE}/mod/lti/auth.php",
                auth_token_url=f"https://{MOODLE}/mod/lti/token.php",
                key_set_url=f"https://{MOODLE}/mod/lti/certs.php",
            ),
            deployment_ids=[],
        )
    assert "deployment_ids" in refused.value.message_dict
    assert not Platform.objects.exists()


@pytest.mark.parametrize(
    ("field", "url"),
    [
        ("key_set_url", "http://10.0.0.1/mod/lti/certs.php"),
        ("key_set_url", "http://127.0.0.1/mod/lti/certs.php"),
        ("auth_token_url", "http://169.254.169.254/latest/meta-data"),
        ("auth_token_url", "https://lms.example.com:8443/mod/lti/token.php"),
    ],
)
def test_a_url_on_an_internal_address_is_refused(
    client: Client, cast: Cast, settings: Settings, field: str, url: str
) -> None:
    settings.INSIGNIA_FETCH_ALLOWLIST = {MOODLE: "127.0.0.1:9"}
    client.force_login(cast.owner)
    response = client.post(_url("lti_platform_new", cast), _moodle_form(**{field: url}))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Insignia calls a course platform only at a public address" in body
    assert f'id="id_{field}_error"' in body  # on the field that is wrong
    assert not Platform.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.LTI_PLATFORM_REGISTERED).exists()


def test_the_authorisation_url_only_needs_to_be_a_web_address(
    client: Client, cast: Cast, settings: Settings
) -> None:
    """Browsers go there, Insignia does not call it: a campus-only address is fine."""
    settings.INSIGNIA_FETCH_ALLOWLIST = {MOODLE: "127.0.0.1:9"}
    client.force_login(cast.owner)
    internal = client.post(
        _url("lti_platform_new", cast), _moodle_form(auth_login_url="https://10.1.2.3/auth.php")
    )
    assert internal.status_code == 302
    Platform.objects.all().delete()
    bad = client.post(
        _url("lti_platform_new", cast), _moodle_form(auth_login_url="ftp://moodle.poly.test/")
    )
    assert bad.status_code == 400
    assert not Platform.objects.exists()


def test_a_platform_registered_by_another_institution_is_refused_without_naming_it(
    client: Client, cast: Cast, settings: Settings
) -> None:
    settings.INSIGNIA_FETCH_ALLOWLIST = {"sso.canvaslms.com": "127.0.0.1:9"}
    canvas = {
        "name": "Canvas",
        "issuer": "https://canvas.instructure.com",
        "client_id": "10000000000042",
        "deployment_ids": "7:8865aa05b4b79b64a91a86042e43af5ea8ae79eb",
        "auth_login_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
        "auth_token_url": "https://sso.canvaslms.com/login/oauth2/token",
        "key_set_url": "https://sso.canvaslms.com/api/lti/security/jwks",
        "enabled": "on",
    }
    client.force_login(cast.outsider)
    theirs = client.post(
        reverse("manage:lti_platform_new", args=[cast.other_institution.slug]), canvas
    )
    assert theirs.status_code == 302

    client.force_login(cast.owner)
    for issuer in ("https://canvas.instructure.com", "https://canvas.instructure.com/"):
        response = client.post(_url("lti_platform_new", cast), {**canvas, "issuer": issuer})
        assert response.status_code == 400
        body = response.content.decode()
        assert (
            "This platform and client ID are already registered (here or by another "
            "institution)." in body
        )
        assert "Rival College" not in body and "rival-college" not in body
    assert not Platform.objects.filter(institution=cast.institution).exists()
    # Another client ID of the same cloud LMS is another registration.
    other_client = client.post(
        _url("lti_platform_new", cast), {**canvas, "client_id": "10000000000043"}
    )
    assert other_client.status_code == 302


# --------------------------------------------------------------------------------------------
# Registration links
# --------------------------------------------------------------------------------------------


def test_a_registration_link_is_shown_once_and_only_its_hash_is_kept(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.owner)
    response = client.post(_url("lti_invite_new", cast), {"name": "Moodle"})
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    body = response.content.decode()
    found = re.search(r'value="http://testserver/lti/register/([A-Za-z0-9_-]+)/"', body)
    assert found is not None, body[:3000]
    token = found.group(1)
    assert "Paste this into your LMS" in body and "It works once, for 7 days." in body

    invite = RegistrationInvite.objects.get(institution=cast.institution)
    assert invite.name == "Moodle" and invite.created_by == cast.owner
    assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {invite.token_hash, invite.name}
    assert 6.9 < (invite.expires_at - invite.created_at).total_seconds() / 86400 <= 7
    # The LMS that opens the link finds the invitation by the token.
    assert registration.invite_for(token).pk == invite.pk

    again = client.get(_url("lti", cast)).content.decode()
    assert token not in again
    assert "Moodle" in again and "Withdraw" in again

    nameless = client.post(_url("lti_invite_new", cast), {"name": "  "})
    assert nameless.status_code == 400
    assert RegistrationInvite.objects.count() == 1


def test_an_owner_withdraws_a_registration_link(client: Client, cast: Cast) -> None:
    invite, _token = configuration.create_invite(
        actor=cast.owner, institution=cast.institution, name="Canvas"
    )
    client.force_login(cast.owner)
    response = client.post(_url("lti_invite_revoke", cast, invite.pk), follow=True)
    assert response.status_code == 200
    assert "The registration link “Canvas” is withdrawn." in response.content.decode()
    assert not RegistrationInvite.objects.filter(pk=invite.pk).exists()
    assert client.post(_url("lti_invite_revoke", cast, invite.pk)).status_code == 404
    assert client.get(_url("lti_invite_revoke", cast, invite.pk)).status_code == 405


# --------------------------------------------------------------------------------------------
# Badges placed in courses
# --------------------------------------------------------------------------------------------


def test_placed_badges_are_listed_with_their_counts_in_one_query(
    client: Client, cast: Cast, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    version = make_published(cast.owner, cast.issuer)
    platform = _platform(cast)
    score = _placement(cast, platform, version, Rule.SCORE)
    _placement(cast, platform, version, Rule.COLUMN)
    _placement(cast, platform, version, Rule.LAUNCH)
    made = award(cast.owner, version)
    _grant(score, made, "u1", GrantStatus.AWARDED)
    _grant(score, made, "u2", GrantStatus.KEPT)
    _grant(score, made, "u3", GrantStatus.REVIEW)
    _grant(score, made, "u4", GrantStatus.FAILED)
    _grant(score, made, "u5", GrantStatus.REVOKED)

    with django_assert_num_queries(1):
        found = selectors.placements_of(cast.institution)
    rows = {b.placement.rule: (b.awarded, b.review, b.failed) for b in found}
    assert rows == {Rule.SCORE: (2, 1, 1), Rule.COLUMN: (0, 0, 0), Rule.LAUNCH: (0, 0, 0)}

    client.force_login(cast.editor)
    body = client.get(_url("lti", cast)).content.decode()
    assert "score ≥ 80%" in body
    assert "grade in “Final project”" in body
    assert "on opening" in body
    assert "Ava Awarder" in body and "Statistics 101" in body
    assert "2 awarded" in body and "1 to review" in body and "1 could not be awarded" in body
    # "Check now" for the grade-based ones only.
    assert body.count(">Check now<") == 2


def test_check_now_shows_why_an_unreachable_platform_failed(
    client: Client, cast: Cast, settings: Settings
) -> None:
    settings.INSIGNIA_FETCH_ALLOWLIST = {"lms.down.test": "127.0.0.1:9"}  # nobody listens
    version = make_published(cast.owner, cast.issuer)
    placement = _placement(cast, _platform(cast, "lms.down.test"), version)
    client.force_login(cast.awarder)  # an awarder may check
    response = client.post(_url("lti_check", cast, placement.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("manage:dashboard", args=[cast.institution.slug])

    placement.refresh_from_db()
    assert placement.last_checked_at is not None
    assert "could not be reached" in placement.last_check_error
    client.force_login(cast.owner)
    again = client.post(_url("lti_check", cast, placement.pk), follow=True)
    body = again.content.decode()
    assert "The check failed: The LMS could not be reached" in body  # the message
    assert "lti-warning" in body and escape(placement.last_check_error) in body  # the table
    assert not Grant.objects.exists()
    assert client.get(_url("lti_check", cast, placement.pk)).status_code == 405


def test_check_now_on_a_disabled_platform_checks_nothing(client: Client, cast: Cast) -> None:
    version = make_published(cast.owner, cast.issuer)
    platform = _platform(cast, "lms.down.test")
    Platform.objects.filter(pk=platform.pk).update(enabled=False)
    placement = _placement(cast, platform, version)
    client.force_login(cast.owner)
    body = client.post(_url("lti_check", cast, placement.pk), follow=True).content.decode()
    assert "The course platform is disabled: nothing was checked." in body
    placement.refresh_from_db()
    assert placement.last_checked_at is None


# --------------------------------------------------------------------------------------------
# Grade changes to review
# --------------------------------------------------------------------------------------------


def test_staff_keep_or_revoke_a_badge_whose_grade_changed(client: Client, cast: Cast) -> None:
    version = make_published(cast.owner, cast.issuer)
    placement = _placement(cast, _platform(cast), version)
    kept_award = award(cast.owner, version, email="kim@example.com", name="Kim Keep")
    gone_award = award(cast.owner, version, email="rex@example.com", name="Rex Revoke")
    keep = _grant(placement, kept_award, "u-kim")
    revoke = _grant(placement, gone_award, "u-rex")

    client.force_login(cast.editor)
    page = client.get(_url("lti", cast)).content.decode()
    assert "Grade changes to review" in page
    assert "Kim Keep" in page and "rex@example.com" in page
    assert "85% → <strong>62.5%</strong>" in page
    assert "Keep the badge" in page and "Revoke the badge" in page

    kept = client.post(_url("lti_decide", cast, keep.pk), {"decision": "keep"}, follow=True)
    assert "The badge of Kim Keep is kept." in kept.content.decode()
    keep.refresh_from_db()
    kept_award.refresh_from_db()
    assert keep.status == GrantStatus.KEPT and kept_award.status == "active"
    assert AuditEvent.objects.filter(
        action=AuditAction.LTI_REVIEW_KEPT, target=str(kept_award.pk), actor=cast.editor
    ).exists()

    # An awarder may keep a badge but not revoke one.
    client.force_login(cast.awarder)
    refused = client.post(_url("lti_decide", cast, revoke.pk), {"decision": "revoke"})
    assert refused.status_code == 403
    revoke.refresh_from_db()
    gone_award.refresh_from_db()
    assert revoke.status == GrantStatus.REVIEW and gone_award.status == "active"

    client.force_login(cast.editor)
    revoked = client.post(
        _url("lti_decide", cast, revoke.pk),
        {"decision": "revoke", "reason": "Final grade 62.5% after the appeal."},
        follow=True,
    )
    body = revoked.content.decode()
    assert "The badge of Rex Revoke is revoked." in body
    assert "Nothing to review." in body
    revoke.refresh_from_db()
    gone_award.refresh_from_db()
    assert revoke.status == GrantStatus.REVOKED
    assert gone_award.status == "revoked"
    assert gone_award.status_reason == "Final grade 62.5% after the appeal."
    assert AuditEvent.objects.filter(action=AuditAction.LTI_REVIEW_REVOKED).exists()

    # A decision is taken once.
    twice = client.post(_url("lti_decide", cast, revoke.pk), {"decision": "keep"}, follow=True)
    assert "This award is not waiting for a decision." in twice.content.decode()
    revoke.refresh_from_db()
    assert revoke.status == GrantStatus.REVOKED


def test_an_awarder_keeps_a_badge_and_returns_to_the_overview(client: Client, cast: Cast) -> None:
    version = make_published(cast.owner, cast.issuer)
    placement = _placement(cast, _platform(cast), version)
    row = _grant(placement, award(cast.owner, version), "u1")
    client.force_login(cast.awarder)
    response = client.post(_url("lti_decide", cast, row.pk), {"decision": "keep"})
    assert response.status_code == 302
    assert response["Location"] == reverse("manage:dashboard", args=[cast.institution.slug])
    row.refresh_from_db()
    assert row.status == GrantStatus.KEPT
    # A viewer may not decide at all.
    client.force_login(cast.viewer)
    assert client.post(_url("lti_decide", cast, row.pk), {"decision": "keep"}).status_code == 403


# --------------------------------------------------------------------------------------------
# Removing a platform
# --------------------------------------------------------------------------------------------


def test_removing_a_platform_says_what_goes_and_keeps_the_awards(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.owner, cast.issuer)
    platform = _platform(cast)
    placement = _placement(cast, platform, version)
    made = award(cast.owner, version)
    _grant(placement, made, "u1", GrantStatus.AWARDED)
    client.force_login(cast.owner)

    confirm = client.get(_url("lti_platform_remove", cast, platform.pk))
    body = confirm.content.decode()
    assert "Remove “Moodle”?" in body
    assert "1 badge placed in its courses is removed." in body
    assert "1 record of what its courses awarded is removed." in body
    assert "The badges already awarded stay valid" in body

    response = client.post(_url("lti_platform_remove", cast, platform.pk), follow=True)
    assert "“Moodle” is removed." in response.content.decode()
    assert not Platform.objects.exists()
    assert not Placement.objects.exists() and not Grant.objects.exists()
    made.refresh_from_db()
    assert made.status == "active"
    event = AuditEvent.objects.get(action=AuditAction.LTI_PLATFORM_REMOVED)
    assert event.data["placements"] == 1 and event.data["grants"] == 1
