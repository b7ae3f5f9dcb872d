"""Awarding to an institutional identity (issue 15 §4): a student number or a sign-in name,
instead of an e-mail address or with it, hashed into the credential like the address."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from awarding import services as awarding_services
from awarding.revocation.services import revoke_award
from badges.models import Award, AwardNotification, IdentifierType
from badges.notifications import services as notification_services
from events.models import Event, EventType
from openbadges import ob3, ob3check
from tests.badges.helpers import award, make_published, verify_served
from tests.base import CaptureCallbacks, Cast
from tests.ob3api.helpers import strict_errors

pytestmark = pytest.mark.django_db


def _to_student(cast: Cast, number: str = "20261234", **more: Any) -> Award:
    version = make_published(cast.editor, cast.issuer)
    return awarding_services.award_badge(
        actor=cast.awarder,
        version=version,
        identifier_type=IdentifierType.STUDENT_ID,
        identifier=number,
        name="Lee Learner",
        **more,
    )


def test_an_award_to_a_student_number_names_it_by_a_salted_hash_only(
    client: Client, cast: Cast
) -> None:
    issued = _to_student(cast)
    (identity,) = issued.credential["credentialSubject"]["identifier"]

    assert (issued.recipient_email, issued.recipient_identifier) == ("", "20261234")
    assert issued.recipient_identifier_type == "studentId"
    # OB 3.0's IdentifierTypeEnum has no student number: it is an ext: term.
    assert identity["identityType"] == "ext:studentId"
    assert identity["salt"] == issued.salt
    assert identity["identityHash"] == ob3.identity_hash("20261234", issued.salt)
    assert ob3.identifier_matches("20261234", identity)
    assert not ob3.identifier_matches("20261235", identity)
    assert "20261234" not in issued.credential_json
    assert verify_served(client, issued.credential)
    assert ob3check.check_credential(issued.credential) == []
    assert strict_errors(issued.credential, "achievementcredential.json") == []


def test_an_award_to_an_address_and_a_sign_in_name_carries_both_with_one_salt(
    cast: Cast,
) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = award(
        cast.awarder,
        version,
        identifier_type=IdentifierType.SOURCED_ID,
        identifier=" JDoe@Poly.AC.NZ ",
    )
    email, sign_in = issued.credential["credentialSubject"]["identifier"]

    assert (email["identityType"], sign_in["identityType"]) == ("emailAddress", "sourcedId")
    assert email["salt"] == sign_in["salt"] == issued.salt
    assert issued.recipient_email_hash == email["identityHash"]
    assert ob3.email_matches("learner@example.com", email)
    # A sign-in name is kept and hashed lower-cased, like an address.
    assert issued.recipient_identifier == "jdoe@poly.ac.nz"
    assert ob3.identifier_matches("jdoe@poly.ac.nz", sign_in)
    assert strict_errors(issued.credential, "achievementcredential.json") == []


def test_a_student_number_keeps_its_case_but_loses_its_spaces(cast: Cast) -> None:
    issued = _to_student(cast, " A 0123 ")
    assert issued.recipient_identifier == "A0123"
    (identity,) = issued.credential["credentialSubject"]["identifier"]
    assert ob3.identifier_matches("A0123", identity)
    assert not ob3.identifier_matches("a0123", identity)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({}, "email", "e-mail address, a student number or sign-in name"),
        ({"identifier": "20261234"}, "identifier_type", "student number or a sign-in name"),
        ({"identifier_type": "nationalId", "identifier": "1"}, "identifier_type", "Choose"),
        ({"identifier_type": "studentId"}, "identifier", "Enter the identifier"),
        ({"identifier_type": "studentId", "identifier": "  "}, "identifier", "Enter"),
        ({"identifier_type": "studentId", "identifier": "2026\x001234"}, "identifier", "control"),
        ({"identifier_type": "studentId", "identifier": "7" * 257}, "identifier", "256"),
        (
            {"email": "not-an-address", "identifier_type": "studentId", "identifier": "1"},
            "email",
            "is not an e-mail address",
        ),
    ],
)
def test_an_award_needs_a_recipient_it_can_hash(
    cast: Cast, fields: dict[str, Any], field: str, message: str
) -> None:
    version = make_published(cast.editor, cast.issuer)
    with pytest.raises(ValidationError) as refused:
        awarding_services.award_badge(actor=cast.awarder, version=version, **fields)
    assert message in " ".join(refused.value.message_dict[field])
    assert not Award.objects.exists()


def test_an_identifier_of_256_characters_is_kept_whole(cast: Cast) -> None:
    issued = _to_student(cast, "7" * 256)
    assert issued.recipient_identifier == "7" * 256


def test_no_e_mail_and_no_claim_link_go_to_a_learner_without_an_address(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        issued = _to_student(cast)

    assert mail.outbox == []
    assert not AwardNotification.objects.filter(award=issued).exists()
    with pytest.raises(ValidationError, match="student number or sign-in name, not an address"):
        notification_services.resend_award_email(actor=cast.awarder, award=issued)
    with django_capture_on_commit_callbacks(execute=True):
        revoke_award(actor=cast.owner, award=issued, reason="Issued in error", notify_earner=True)
    assert mail.outbox == []
    assert Award.objects.get(pk=issued.pk).status == "revoked"


def test_an_expired_award_to_a_student_number_is_re_issued_to_it(cast: Cast) -> None:
    issued = _to_student(cast)
    Award.objects.filter(pk=issued.pk).update(valid_until=issued.valid_from)

    new = awarding_services.reissue_expired(
        actor=cast.awarder, award=Award.objects.get(pk=issued.pk)
    )

    assert (new.recipient_identifier_type, new.recipient_identifier) == ("studentId", "20261234")
    assert new.recipient_email == ""
    assert new.salt != issued.salt


def test_the_ob2_assertion_of_a_student_number_award_names_its_type(
    client: Client, cast: Cast
) -> None:
    issued = _to_student(cast)
    assertion = client.get(f"/ob2/assertions/{issued.pk}").json()
    assert assertion["recipient"]["type"] == "ext:studentId"
    assert assertion["recipient"]["identity"] == issued.recipient_email_hash
    assert assertion["recipient"]["salt"] == issued.salt


def test_the_existing_e_mail_keyword_still_awards_to_an_address(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    issued = awarding_services.award_badge(
        actor=cast.awarder, version=version, email="Lee@Example.com"
    )
    assert (issued.recipient_email, issued.recipient_identifier) == ("lee@example.com", "")
    (identity,) = issued.credential["credentialSubject"]["identifier"]
    assert identity["identityType"] == "emailAddress"


def test_the_award_issued_event_names_the_student_number_and_no_address(cast: Cast) -> None:
    issued = _to_student(cast)
    event = Event.objects.get(type=EventType.AWARD_ISSUED, subject=str(issued.pk))
    assert event.data["recipient_email"] is None
    assert event.data["recipient_student_id"] == "20261234"
    assert event.data["recipient_sourced_id"] is None
