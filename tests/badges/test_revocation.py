"""Revoke, suspend, reinstate, bulk revoke and re-issue: who may, what everyone then sees."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from awarding import services as awarding_services
from awarding.revocation import services as revocation_services
from badges import selectors as badge_selectors
from badges.models import Award, AwardStatus, AwardStatusEvent, StatusAction
from badges.state import State, award_state, award_state_for_credential
from issuers.models import AuditEvent
from openbadges import statuslist
from tests.badges.helpers import award, make_published, verify_served
from tests.base import CaptureCallbacks, Cast

pytestmark = pytest.mark.django_db


def served_bit(client: Client, award_obj: Award, purpose: str = "revocation") -> bool:
    """Read the award's bit in the list the server serves now, as an outside verifier would."""
    entries = json.loads(client.get(reverse("credential_status", args=[award_obj.pk])).content)
    entry = next(e for e in entries["credentialStatus"] if e["statusPurpose"] == purpose)
    path = entry["statusListCredential"].split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)
    assert response.status_code == 200
    return statuslist.check_entry(entry, json.loads(response.content)).is_set


def test_an_editor_revokes_with_a_reason_and_every_surface_says_revoked(
    cast: Cast, client: Client
) -> None:
    version = make_published(cast.editor, cast.issuer)
    badge = award(cast.awarder, version)
    assert not served_bit(client, badge)

    revocation_services.revoke_award(actor=cast.editor, award=badge, reason="Awarded in error")

    badge.refresh_from_db()
    state = award_state(badge)
    assert state.state is State.REVOKED
    assert state.reason == "Awarded in error"
    assert state.since is not None
    fresh = award_state_for_credential(badge.credential["id"])
    assert fresh is not None and fresh.is_revoked and fresh.reason == "Awarded in error"
    assert served_bit(client, badge, "revocation")
    # The suspension bit (the entry the credential carries) is set for good too, so
    # independent verifiers refuse it (docs/status-lists.md).
    assert served_bit(client, badge, "suspension")
    # The signature is still good: revocation is a status, not a broken proof.
    assert verify_served(client, badge.credential)
    # OB 2.0 hosted assertion: 410 Gone with the reason.
    gone = client.get(reverse("ob2_assertion", args=[badge.pk]))
    assert gone.status_code == 410
    assert json.loads(gone.content)["revocationReason"] == "Awarded in error"


def test_an_awarder_or_a_viewer_cannot_revoke_or_suspend(cast: Cast) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))

    for person in (cast.awarder, cast.viewer, cast.outsider):
        with pytest.raises(PermissionDenied):
            revocation_services.revoke_award(actor=person, award=badge, reason="No")
        with pytest.raises(PermissionDenied):
            revocation_services.suspend_award(actor=person, award=badge, reason="No")

    badge.refresh_from_db()
    assert badge.status == AwardStatus.ACTIVE
    assert not AwardStatusEvent.objects.exists()


def test_suspension_is_lifted_by_reinstating_and_can_be_repeated(
    cast: Cast, client: Client
) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))

    revocation_services.suspend_award(actor=cast.owner, award=badge, reason="Under review")
    badge.refresh_from_db()
    assert award_state(badge).state is State.SUSPENDED
    assert award_state(badge).reason == "Under review"
    assert served_bit(client, badge, "suspension")
    assert not served_bit(client, badge, "revocation")

    revocation_services.reinstate_award(actor=cast.owner, award=badge, reason="Review passed")
    badge.refresh_from_db()
    assert award_state(badge).state is State.VALID
    assert not served_bit(client, badge, "suspension")

    revocation_services.suspend_award(actor=cast.editor, award=badge, reason="Second review")
    badge.refresh_from_db()
    assert served_bit(client, badge, "suspension")
    assert [e.action for e in badge.status_events.order_by("at", "pk")] == [
        StatusAction.SUSPENDED,
        StatusAction.REINSTATED,
        StatusAction.SUSPENDED,
    ]


def test_the_ob2_hosted_assertion_refuses_a_suspended_badge_until_reinstated(
    cast: Cast, client: Client
) -> None:
    """OB 2.0 knows no suspension: its one way to say "do not accept" is a 410 with
    ``revoked: true``, which an OB 2.0 verifier (ours, openbadges-validator) treats as not
    valid. The reason says it is a suspension; reinstating brings the 200 back."""
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
    url = reverse("ob2_assertion", args=[badge.pk])
    before = client.get(url)

    revocation_services.suspend_award(actor=cast.editor, award=badge, reason="Under review")
    during = client.get(url)
    badge.refresh_from_db()
    revocation_services.reinstate_award(actor=cast.editor, award=badge)
    after = client.get(url)

    assert before.status_code == 200
    assert during.status_code == 410
    body = json.loads(during.content)
    assert body["revoked"] is True
    assert body["revocationReason"] == "Suspended: Under review"
    assert body["id"] == json.loads(before.content)["id"]
    assert after.status_code == 200
    assert json.loads(after.content)["type"] == "Assertion"


def test_revocation_is_final_and_needs_a_reason(cast: Cast) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))

    with pytest.raises(ValidationError):
        revocation_services.revoke_award(actor=cast.editor, award=badge, reason="   ")
    revocation_services.revoke_award(actor=cast.editor, award=badge, reason="Fraud")

    with pytest.raises(ValidationError, match="already been revoked"):
        revocation_services.revoke_award(actor=cast.editor, award=badge, reason="Again")
    with pytest.raises(ValidationError):
        revocation_services.reinstate_award(actor=cast.editor, award=badge)
    with pytest.raises(ValidationError):
        revocation_services.suspend_award(actor=cast.editor, award=badge, reason="x")


def test_a_suspended_badge_can_be_revoked(cast: Cast) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
    revocation_services.suspend_award(actor=cast.editor, award=badge, reason="Check")

    revocation_services.revoke_award(actor=cast.editor, award=badge, reason="Confirmed misconduct")

    badge.refresh_from_db()
    assert award_state(badge).state is State.REVOKED


def test_every_change_is_in_an_append_only_log_with_who_when_why_what(cast: Cast) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))

    revocation_services.revoke_award(actor=cast.editor, award=badge, reason="Wrong learner")

    event = AwardStatusEvent.objects.get(award=badge)
    assert (event.actor, event.action, event.reason) == (
        cast.editor,
        StatusAction.REVOKED,
        "Wrong learner",
    )
    assert timezone.now() - event.at < timedelta(minutes=1)
    audit = AuditEvent.objects.get(action="award.revoked")
    assert audit.actor == cast.editor
    assert audit.data["reason"] == "Wrong learner"
    assert audit.data["awards"] == [str(badge.pk)]
    event.reason = "Rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()


def test_the_learner_is_told_only_when_asked(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    version = make_published(cast.editor, cast.issuer)
    told = award(cast.awarder, version, email="told@example.com")
    silent = award(cast.awarder, version, email="silent@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        revocation_services.revoke_award(
            actor=cast.editor, award=told, reason="Duplicate award", notify_earner=True
        )
        revocation_services.revoke_award(actor=cast.editor, award=silent, reason="Duplicate award")

    assert [m.to for m in mail.outbox] == [["told@example.com"]]
    assert "revoked" in mail.outbox[0].subject
    assert "Duplicate award" in mail.outbox[0].body
    assert str(told.pk) in mail.outbox[0].body


def test_bulk_revocation_by_achievement_and_date_range(cast: Cast) -> None:
    data = make_published(cast.editor, cast.issuer)
    other = make_published(cast.editor, cast.issuer, slug="welding")
    first, second = award(cast.awarder, data), award(cast.awarder, data)
    kept = award(cast.awarder, other)
    Award.objects.filter(pk=first.pk).update(awarded_at=timezone.now() - timedelta(days=40))

    recent = badge_selectors.awards_matching(
        cast.institution,
        achievement=data.achievement,
        awarded_from=timezone.now() - timedelta(days=7),
    )
    result = revocation_services.bulk_revoke(actor=cast.editor, awards=recent, reason="Exam leaked")

    assert (result.revoked, result.already_revoked) == (1, 0)
    statuses = dict(Award.objects.values_list("pk", "status"))
    assert statuses == {
        first.pk: AwardStatus.ACTIVE,
        second.pk: AwardStatus.REVOKED,
        kept.pk: AwardStatus.ACTIVE,
    }
    everything = badge_selectors.awards_matching(cast.institution, achievement=data.achievement)
    again = revocation_services.bulk_revoke(
        actor=cast.editor, awards=everything, reason="Exam leaked"
    )
    assert (again.revoked, again.already_revoked) == (1, 1)
    assert AwardStatusEvent.objects.filter(batch=again.batch).count() == 1


def test_bulk_revocation_is_all_or_nothing_for_an_awarder(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version)

    with pytest.raises(PermissionDenied):
        revocation_services.bulk_revoke(
            actor=cast.awarder,
            awards=badge_selectors.awards_matching(cast.institution),
            reason="No",
        )
    assert not Award.objects.filter(status=AwardStatus.REVOKED).exists()


def test_bulk_selection_never_reaches_another_institution(cast: Cast) -> None:
    theirs = award(cast.outsider, make_published(cast.outsider, cast.other_issuer, slug="arts"))

    selection = badge_selectors.awards_matching(
        cast.institution, references=[theirs.credential["id"], "learner@example.com"]
    )

    assert list(selection) == []


def test_the_command_revokes_by_the_credential_id_or_its_short_form(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    by_url, by_uuid = award(cast.awarder, version), award(cast.awarder, version)
    out = StringIO()

    call_command("revoke", credential=by_url.credential["id"], reason="Cheating", stdout=out)
    call_command("revoke", credential=str(by_uuid.pk), reason="Cheating", stdout=out)

    assert out.getvalue().count("revoked ") == 2
    assert set(Award.objects.values_list("status", flat=True)) == {AwardStatus.REVOKED}
    assert AwardStatusEvent.objects.filter(actor=None, via="command").count() == 2
    with pytest.raises(CommandError, match="already"):
        call_command("revoke", credential=str(by_uuid.pk), reason="Again", stdout=out)
    with pytest.raises(CommandError, match="No award"):
        call_command("revoke", credential="not-a-credential", reason="x", stdout=out)


def test_the_command_suspends_and_reinstates(cast: Cast) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))

    call_command("revoke", credential=str(badge.pk), suspend=True, reason="Hold", stdout=StringIO())
    badge.refresh_from_db()
    assert badge.status == AwardStatus.SUSPENDED
    call_command("revoke", credential=str(badge.pk), reinstate=True, stdout=StringIO())
    badge.refresh_from_db()
    assert badge.status == AwardStatus.ACTIVE


# --- console ---------------------------------------------------------------------------------


def test_an_editor_revokes_from_the_console_and_an_awarder_is_refused(
    cast: Cast, client: Client
) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
    detail = reverse("manage:award_detail", args=[cast.institution.slug, badge.pk])
    revoke = reverse("manage:award_revoke", args=[cast.institution.slug, badge.pk])

    client.force_login(cast.awarder)
    page = client.get(detail)
    assert page.status_code == 200
    assert b"Only owners and editors can revoke" in page.content
    assert client.post(revoke, {"reason": "Nope"}).status_code == 403

    client.force_login(cast.editor)
    response = client.post(revoke, {"reason": "Awarded in error", "notify_earner": "on"})
    assert response.status_code == 302
    page = client.get(detail)
    assert b"Awarded in error" in page.content
    assert b'data-state="revoked"' in page.content
    badge.refresh_from_db()
    assert badge.status == AwardStatus.REVOKED


def test_the_console_suspends_and_reinstates(cast: Cast, client: Client) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
    client.force_login(cast.owner)
    args = [cast.institution.slug, badge.pk]

    client.post(reverse("manage:award_suspend", args=args), {"reason": "Review"})
    badge.refresh_from_db()
    assert badge.status == AwardStatus.SUSPENDED
    assert b"Reinstate" in client.get(reverse("manage:award_detail", args=args)).content

    client.post(reverse("manage:award_reinstate", args=args), {"reason": ""})
    badge.refresh_from_db()
    assert badge.status == AwardStatus.ACTIVE


def test_the_awards_list_shows_each_state(cast: Cast, client: Client) -> None:
    version = make_published(cast.editor, cast.issuer)
    revoked = award(cast.awarder, version, name="Rae Revoked")
    award(cast.awarder, version, name="Val Valid")
    revocation_services.revoke_award(actor=cast.editor, award=revoked, reason="x")
    client.force_login(cast.editor)

    page = client.get(reverse("manage:awards", args=[cast.institution.slug])).content.decode()

    assert page.count("status-revoked") == 1
    assert page.count("status-valid") == 1


def _bulk(client: Client, cast: Cast, **data: Any) -> Any:
    return client.post(reverse("manage:awards_revoke", args=[cast.institution.slug]), data)


def test_console_bulk_revoke_counts_first_then_revokes_an_uploaded_list(
    cast: Cast, client: Client
) -> None:
    version = make_published(cast.editor, cast.issuer)
    listed = [award(cast.awarder, version, email=f"l{n}@example.com") for n in range(3)]
    unlisted = award(cast.awarder, version, email="keep@example.com")
    upload = "credential,note\n" + "\n".join(f"{a.credential['id']},x" for a in listed[:2])
    upload += "\nl2@example.com\n"
    client.force_login(cast.editor)

    preview = _bulk(
        client,
        cast,
        reason="Cohort withdrawn",
        upload=SimpleUploadedFile("list.csv", upload.encode(), "text/csv"),
    )
    assert preview.status_code == 200
    assert b"3 badges will be revoked" in preview.content
    assert not Award.objects.filter(status=AwardStatus.REVOKED).exists()

    references = preview.context["form"].data["references"]
    done = _bulk(
        client, cast, reason="Cohort withdrawn", references=references, confirm="on", expected="3"
    )

    assert done.status_code == 302
    revoked = set(Award.objects.filter(status=AwardStatus.REVOKED).values_list("pk", flat=True))
    assert revoked == {a.pk for a in listed}
    assert unlisted.pk not in revoked


def test_console_bulk_revoke_from_ticked_rows_and_refused_to_an_awarder(
    cast: Cast, client: Client
) -> None:
    version = make_published(cast.editor, cast.issuer)
    ticked = award(cast.awarder, version)
    client.force_login(cast.awarder)
    assert _bulk(client, cast, selected=[str(ticked.pk)]).status_code == 403

    client.force_login(cast.editor)
    form = _bulk(client, cast, selected=[str(ticked.pk)])
    assert str(ticked.pk).encode() in form.content
    _bulk(client, cast, references=str(ticked.pk), reason="x", confirm="on", expected="1")

    ticked.refresh_from_db()
    assert ticked.status == AwardStatus.REVOKED


# --- expiry and re-issue ---------------------------------------------------------------------


def test_expired_and_expiring_soon_are_told_apart(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer, validity_days=10)
    badge = award(cast.awarder, version)
    assert badge.valid_until is not None

    assert award_state(badge).expiring_soon
    assert not award_state(badge, now=badge.valid_from - timedelta(days=30)).expiring_soon
    later = award_state(badge, now=badge.valid_until + timedelta(seconds=1))
    assert later.state is State.EXPIRED and not later.expiring_soon


def test_an_expired_award_is_reissued_keeping_its_award_date(cast: Cast, client: Client) -> None:
    version = make_published(cast.editor, cast.issuer, validity_days=365)
    old = award(cast.awarder, version, evidence=[])
    first_awarded = timezone.now() - timedelta(days=400)
    Award.objects.filter(pk=old.pk).update(
        awarded_at=first_awarded.replace(microsecond=0),
        valid_until=timezone.now() - timedelta(days=35),
    )
    old.refresh_from_db()
    with pytest.raises(ValidationError):
        awarding_services.reissue_expired(actor=cast.awarder, award=award(cast.awarder, version))

    client.force_login(cast.awarder)
    page = client.get(reverse("manage:award_detail", args=[cast.institution.slug, old.pk]))
    assert b"Re-issue this badge" in page.content
    response = client.post(reverse("manage:award_reissue", args=[cast.institution.slug, old.pk]))

    new = Award.objects.get(reissued_from=old)
    assert response.status_code == 302
    assert new.credential["awardedDate"] == old.awarded_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert new.credential["validFrom"] != new.credential["awardedDate"]
    assert award_state(new).state is State.VALID
    assert new.recipient_email_hash != "" and new.recipient_email == old.recipient_email
    assert verify_served(client, new.credential)
    assert old.status_events.get().action == StatusAction.REISSUED
    with pytest.raises(ValidationError, match="already been re-issued"):
        awarding_services.reissue_expired(actor=cast.awarder, award=old)
