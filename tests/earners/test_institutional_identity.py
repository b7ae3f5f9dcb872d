"""Awards to a student number reach the learner whose institution vouched for it at sign-in
(issue 15 §4): in the backpack, on its badge pages and in every download, and never across
institutions, where the same number is someone else."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from badges.models import Award
from earners import selectors
from earners.identity import services as identity_services
from earners.models import ChangeStatus
from tests.badges.helpers import award, make_published
from tests.base import Cast, make_user
from tests.earners.helpers import make_identity, make_learner

pytestmark = pytest.mark.django_db


def _to_number(cast: Cast, number: str = "20261234", **more: str) -> Award:
    version = make_published(cast.editor, cast.issuer, slug=more.pop("slug", "data-literacy"))
    return award(
        cast.awarder, version, email="", identifier_type="studentId", identifier=number, **more
    )


def test_a_badge_awarded_to_my_student_number_is_in_my_backpack(client: Client, cast: Cast) -> None:
    mine = _to_number(cast)
    learner = make_learner("lee@example.com")
    client.force_login(learner)
    assert "Data Literacy" not in client.get("/backpack/").content.decode()

    make_identity(learner, cast.institution, "20261234")

    assert "Data Literacy" in client.get("/backpack/").content.decode()
    assert client.get(f"/backpack/badges/{mine.pk}/").status_code == 200
    assert client.get(f"/backpack/badges/{mine.pk}/certificate.pdf").status_code == 200
    assert selectors.owns_award(learner, mine)
    exported = zipfile.ZipFile(io.BytesIO(client.get("/backpack/account/export.zip").content))
    assert any(str(mine.pk).encode() in exported.read(name) for name in exported.namelist())


def test_the_same_number_at_another_institution_brings_nothing_in(
    client: Client, cast: Cast
) -> None:
    rival_version = make_published(cast.outsider, cast.other_issuer, slug="rival-art")
    theirs = award(
        cast.outsider,
        rival_version,
        email="",
        identifier_type="studentId",
        identifier="20261234",
        name="Someone Else",
    )
    learner = make_learner("lee@example.com")
    make_identity(learner, cast.institution, "20261234")  # vouched for by Poly, not Rival
    client.force_login(learner)

    assert list(selectors.backpack(learner)) == []
    assert not selectors.owns_award(learner, theirs)
    assert client.get(f"/backpack/badges/{theirs.pk}/").status_code == 404
    assert "Rival" not in client.get("/backpack/").content.decode()


def test_a_sign_in_name_does_not_match_a_student_number_of_the_same_text(
    cast: Cast,
) -> None:
    _to_number(cast, "jdoe")
    learner = make_learner("lee@example.com")
    make_identity(learner, cast.institution, "jdoe", identity_type="sourcedId")
    assert list(selectors.backpack(learner)) == []


def test_badges_by_address_and_by_number_appear_together_once(cast: Cast) -> None:
    by_number = _to_number(cast)
    by_address = award(
        cast.awarder,
        make_published(cast.editor, cast.issuer, slug="python"),
        email="lee@example.com",
    )
    both = award(
        cast.awarder,
        make_published(cast.editor, cast.issuer, slug="sql"),
        email="lee@example.com",
        identifier_type="studentId",
        identifier="20261234",
    )
    learner = make_learner("lee@example.com")
    make_identity(learner, cast.institution, "20261234")

    found = list(selectors.backpack(learner))

    assert sorted(a.pk for a in found) == sorted([by_number.pk, by_address.pk, both.pk])


def test_once_the_learner_holds_the_number_the_public_page_protects_them(
    client: Client, cast: Cast
) -> None:
    mine = _to_number(cast, name="Lee Learner")
    before = client.get(f"/credentials/{mine.pk}").content.decode()
    assert 'content="noindex"' not in before  # the issuer's page; never the name (D13)

    make_identity(make_learner("lee@example.com"), cast.institution, "20261234")

    page = client.get(f"/credentials/{mine.pk}").content.decode()
    assert "Lee Learner" not in page
    assert "Awarded to a learner identified by a hashed student number" in page
    assert "20261234" not in page
    assert '<meta name="robots" content="noindex">' in page


def test_another_learner_cannot_ask_for_my_badge_to_be_moved(cast: Cast) -> None:
    mine = _to_number(cast)
    make_identity(make_learner("lee@example.com"), cast.institution, "20261234")
    stranger = make_learner("sam@example.com")
    with pytest.raises(PermissionDenied):
        identity_services.request_identity_change(
            user=stranger, award=mine, new_email="sam@example.com"
        )


def test_a_badge_to_my_number_is_re_issued_to_my_address_keeping_the_number(
    cast: Cast,
) -> None:
    mine = _to_number(cast)
    learner = make_learner("lee@example.com")
    make_identity(learner, cast.institution, "20261234")

    change = identity_services.request_identity_change(
        user=learner, award=mine, new_email="lee@example.com"
    )
    decided = identity_services.decide_identity_change(
        actor=cast.awarder, institution=cast.institution, change=change, approve=True
    )

    assert decided.status == ChangeStatus.APPROVED
    new = decided.new_award
    assert new is not None
    assert (new.recipient_email, new.recipient_identifier) == ("lee@example.com", "20261234")
    assert [i["identityType"] for i in new.credential["credentialSubject"]["identifier"]] == [
        "emailAddress",
        "ext:studentId",
    ]


def test_staff_see_the_number_on_the_identity_change_list(client: Client, cast: Cast) -> None:
    mine = _to_number(cast)
    learner = make_learner("lee@example.com")
    make_identity(learner, cast.institution, "20261234")
    identity_services.request_identity_change(user=learner, award=mine, new_email="lee@example.com")
    client.force_login(cast.awarder)
    body = client.get("/manage/poly/identity-changes/").content.decode()
    assert "Student number: 20261234" in body


def test_a_staff_member_with_the_same_number_elsewhere_changes_nothing(cast: Cast) -> None:
    _to_number(cast)
    other = make_user("visitor@example.com")
    make_identity(other, cast.other_institution, "20261234")
    assert list(selectors.backpack(other)) == []
