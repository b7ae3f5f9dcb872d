"""Identity change: a learner asks, the issuer approves, the badge is re-issued to the other
address and the original is superseded (not revoked), with an auditable link."""

from __future__ import annotations

import pytest
from django.test import Client

from badges.models import Award, AwardStatus
from earners.models import ChangeStatus, IdentityChange
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.earners.helpers import make_learner

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(cast: Cast) -> Award:
    return award(cast.awarder, make_published(cast.editor, cast.issuer), email="lee@old.example")


def _ask(client: Client, award: Award, email: str = "lee@new.example") -> None:
    client.post(
        f"/backpack/badges/{award.pk}/",
        {"action": "identity", "new_email": email, "reason": "I changed jobs"},
    )


def test_an_approved_change_reissues_the_badge_and_supersedes_the_original(
    client: Client, cast: Cast, mine: Award
) -> None:
    learner = make_learner("lee@old.example", "lee@new.example")
    client.force_login(learner)
    _ask(client, mine)
    change = IdentityChange.objects.get()
    assert change.status == ChangeStatus.PENDING

    staff = Client()
    staff.force_login(cast.awarder)
    page = staff.get(f"/manage/{cast.institution.slug}/identity-changes/").content.decode()
    assert "lee@new.example" in page
    staff.post(
        f"/manage/{cast.institution.slug}/identity-changes/",
        {"change": str(change.pk), "decision": "approve"},
    )

    change.refresh_from_db()
    mine.refresh_from_db()
    assert change.status == ChangeStatus.APPROVED and change.decided_by == cast.awarder
    assert change.new_award is not None
    assert change.new_award.recipient_email == "lee@new.example"
    assert mine.status == AwardStatus.ACTIVE  # superseded, not revoked
    public = client.get(f"/credentials/{mine.pk}").content.decode()
    assert "Superseded" in public and f"/credentials/{change.new_award.pk}" in public


def test_a_learner_can_only_move_a_badge_to_a_confirmed_address_of_their_own(
    client: Client, mine: Award
) -> None:
    make_learner("someone@else.example")
    client.force_login(make_learner("lee@old.example"))
    _ask(client, mine, "someone@else.example")
    assert not IdentityChange.objects.exists()


def test_a_viewer_cannot_approve_and_another_institution_cannot_see_requests(
    client: Client, cast: Cast, mine: Award
) -> None:
    learner = make_learner("lee@old.example", "lee@new.example")
    client.force_login(learner)
    _ask(client, mine)
    change = IdentityChange.objects.get()

    viewer = Client()
    viewer.force_login(cast.viewer)
    viewer.post(
        f"/manage/{cast.institution.slug}/identity-changes/",
        {"change": str(change.pk), "decision": "approve"},
    )
    outsider = Client()
    outsider.force_login(cast.outsider)
    own = outsider.get(f"/manage/{cast.other_institution.slug}/identity-changes/")

    change.refresh_from_db()
    assert change.status == ChangeStatus.PENDING
    assert "lee@new.example" not in own.content.decode()
    assert outsider.get(f"/manage/{cast.institution.slug}/identity-changes/").status_code == 404
