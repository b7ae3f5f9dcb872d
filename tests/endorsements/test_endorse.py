"""Giving an endorsement: who may, what is signed, and what is refused (with a reason)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from badges.models import StatusEntry
from endorsements import services
from endorsements.models import Endorsement, EndorsementStatus
from issuers.keys import issuer_did
from issuers.models import AuditAction, AuditEvent, Role
from tests.badges.helpers import make_published, verify_served
from tests.base import Cast, add_member, make_user
from tests.endorsements.helpers import endorse_achievement, endorse_issuer

pytestmark = pytest.mark.django_db


def test_an_owner_signs_an_endorsement_credential_of_another_issuer(
    cast: Cast, client: Client
) -> None:
    endorsement = endorse_issuer(cast)

    credential = endorsement.credential
    assert credential["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert credential["issuer"]["id"] == issuer_did(cast.other_issuer)
    assert credential["credentialSubject"] == {
        "id": issuer_did(cast.issuer),
        "type": ["EndorsementSubject"],
        "endorsementComment": "Rigorous engineering courses.",
    }
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    status = credential["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    entry = StatusEntry.objects.get(holder=endorsement.pk)
    assert entry.award_id is None and str(entry.index) == status["statusListIndex"]
    assert verify_served(client, credential).verified
    served = client.get(reverse("endorsement_credential", args=[endorsement.pk]))
    assert served.status_code == 200
    assert served.content.decode() == endorsement.credential_json
    assert AuditEvent.objects.filter(
        institution=cast.other_institution, action=AuditAction.ENDORSEMENT_GIVEN
    ).exists()


def test_an_achievement_is_endorsed_at_its_address(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    endorsement = endorse_achievement(cast, version)

    subject_id = endorsement.credential["credentialSubject"]["id"]
    assert subject_id.endswith(reverse("achievement", args=[version.achievement_id]))


@pytest.mark.parametrize("role", [Role.EDITOR, Role.AWARDER, Role.VIEWER])
def test_only_an_owner_of_the_institution_may_endorse(cast: Cast, role: Role) -> None:
    staff = make_user(f"{role}@rival.example")
    add_member(staff, cast.other_institution, role)

    with pytest.raises(PermissionDenied):
        services.endorse(
            actor=staff,
            endorser=cast.other_issuer,
            subject=services.Subject(issuer=cast.issuer),
            comment="",
            language="en",
        )
    assert not Endorsement.objects.exists()
    assert not StatusEntry.objects.filter(holder__isnull=False).exists()


def test_an_institution_does_not_endorse_itself_nor_twice(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="its own"):
        services.endorse(
            actor=cast.owner,
            endorser=cast.issuer,
            subject=services.Subject(issuer=cast.issuer),
            comment="",
            language="en",
        )
    endorse_issuer(cast)
    with pytest.raises(ValidationError, match="already endorses"):
        endorse_issuer(cast)
    assert Endorsement.objects.count() == 1


def test_withdrawing_sets_the_bit_and_the_endorsement_leaves_the_pages(
    cast: Cast, client: Client
) -> None:
    endorsement = endorse_issuer(cast)
    page = client.get(reverse("issuer_profile", args=[cast.issuer.slug])).content.decode()
    assert "Endorsed by" in page and "Rigorous engineering courses." in page

    services.withdraw_endorsement(actor=cast.outsider, endorsement=endorsement)

    endorsement.refresh_from_db()
    assert endorsement.status == EndorsementStatus.WITHDRAWN
    entry = StatusEntry.objects.get(holder=endorsement.pk)
    assert entry.set_at is not None
    page = client.get(reverse("issuer_profile", args=[cast.issuer.slug])).content.decode()
    assert "Rigorous engineering courses." not in page


def test_the_achievement_page_lists_its_endorsements_in_both_languages(
    cast: Cast, client: Client
) -> None:
    version = make_published(cast.editor, cast.issuer)
    endorse_achievement(cast, version, comment="Accepted for credit at Rival College.")
    url = reverse("achievement", args=[version.achievement_id])

    english = client.get(url).content.decode()
    client.cookies["insignia_language"] = "zh-hans"
    chinese = client.get(url).content.decode()

    assert f"Endorsed by {cast.other_issuer.name_en}" in english
    assert "Accepted for credit at Rival College." in english
    assert f"背书方：{cast.other_issuer.name_zh}" in chinese


def test_a_comment_a_badge_cannot_carry_is_refused(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="cannot be put in a badge"):
        endorse_issuer(cast, comment="Good\x0b work")
    assert not Endorsement.objects.exists()
