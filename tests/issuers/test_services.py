"""Institution, issuer and membership services: who may change what, and what they see."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from issuers import services
from issuers.models import AuditEvent, Membership, Role
from tests.base import CaptureCallbacks, Cast, make_issuer, make_user, png_bytes

pytestmark = pytest.mark.django_db


def test_an_owner_creates_an_issuer_with_an_image(cast: Cast) -> None:
    issuer = services.create_issuer(
        actor=cast.owner,
        institution=cast.institution,
        slug="poly-health",
        name_en="School of Health",
        name_zh="健康学院",
        url="https://poly.example/health",
        email="health@poly.example",
        image=png_bytes(),
    )
    assert issuer.image is not None
    assert issuer.image.content_type == "image/png"
    assert AuditEvent.objects.filter(action="issuer.created", target="poly-health").exists()


@pytest.mark.parametrize("role", ["editor", "awarder", "viewer"])
def test_only_owners_create_issuers(cast: Cast, role: str) -> None:
    with pytest.raises(PermissionDenied):
        make_issuer(cast.institution, "poly-new", getattr(cast, role))


def test_an_outsider_cannot_create_an_issuer_in_another_institution(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        make_issuer(cast.institution, "sneaky", cast.outsider)


def test_issuer_slugs_are_unique_across_institutions(cast: Cast) -> None:
    with pytest.raises(ValidationError) as caught:
        make_issuer(cast.institution, "rival-arts", cast.owner)
    assert "already taken" in str(caught.value)


def test_reserved_slugs_are_refused(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        make_issuer(cast.institution, "login", cast.owner)


def test_an_issuer_editor_edits_their_issuer_but_not_another(cast: Cast) -> None:
    second = make_issuer(cast.institution, "poly-second", cast.owner)
    scoped = make_user("scoped@poly.example")
    Membership.objects.create(
        user=scoped, institution=cast.institution, issuer=cast.issuer, role=Role.EDITOR
    )
    services.update_issuer(actor=scoped, issuer=cast.issuer, name_en="Engineering School")
    cast.issuer.refresh_from_db()
    assert cast.issuer.name_en == "Engineering School"
    with pytest.raises(PermissionDenied):
        services.update_issuer(actor=scoped, issuer=second, name_en="Hijacked")


def test_an_awarder_cannot_edit_an_issuer(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.update_issuer(actor=cast.awarder, issuer=cast.issuer, name_en="Nope")


def test_a_bad_image_leaves_the_issuer_unchanged(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        services.update_issuer(
            actor=cast.owner, issuer=cast.issuer, name_en="Renamed", image=b"GIF89a not a png"
        )
    cast.issuer.refresh_from_db()
    assert cast.issuer.name_en == "Poly Engineering"
    assert cast.issuer.image is None


def test_only_owners_change_institution_settings(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.update_institution(actor=cast.editor, institution=cast.institution, name_en="X")
    services.update_institution(
        actor=cast.owner, institution=cast.institution, brand_colour="#aa3300", logo=png_bytes()
    )
    cast.institution.refresh_from_db()
    assert cast.institution.brand_colour == "#aa3300"
    assert cast.institution.logo is not None


def test_invitation_mail_is_sent_after_commit_with_a_working_link(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_member(
            actor=cast.owner,
            institution=cast.institution,
            email="  New.Person@Poly.example ",
            role=Role.AWARDER,
            language="zh-hans",
        )
    assert invitation.email == "new.person@poly.example"
    (message,) = mail.outbox
    assert message.to == ["new.person@poly.example"]
    assert "理工学院" in message.subject
    assert "颁发人" in message.body
    html = message.alternatives[0][0]  # type: ignore[attr-defined]
    assert "接受邀请" in str(html)
    link = next(line for line in message.body.splitlines() if "/manage/invitations/" in line)
    token = link.rsplit("/invitations/", 1)[1].strip("/")
    new_user = make_user("new.person@poly.example")
    membership = services.accept_invitation(token=token, user=new_user)
    assert membership.role == Role.AWARDER
    assert membership.institution == cast.institution
    with pytest.raises(ValidationError):
        services.accept_invitation(token=token, user=new_user)


def test_an_invitation_cannot_be_accepted_by_someone_else(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_member(
            actor=cast.owner, institution=cast.institution, email="a@poly.example", role=Role.OWNER
        )
    token = mail.outbox[0].body.split("/manage/invitations/", 1)[1].split("/", 1)[0]
    with pytest.raises(PermissionDenied):
        services.accept_invitation(token=token, user=cast.outsider)
    assert not Membership.objects.filter(user=cast.outsider, institution=cast.institution).exists()


def test_a_withdrawn_invitation_no_longer_works(
    cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_member(
            actor=cast.owner, institution=cast.institution, email="b@poly.example", role=Role.VIEWER
        )
    token = mail.outbox[0].body.split("/manage/invitations/", 1)[1].split("/", 1)[0]
    services.cancel_invitation(actor=cast.owner, invitation=invitation)
    assert services.find_invitation(token) is None


def test_inviting_an_existing_member_is_refused(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        services.invite_member(
            actor=cast.owner,
            institution=cast.institution,
            email="AWARDER@poly.example",
            role=Role.EDITOR,
        )


def test_only_owners_invite(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.invite_member(
            actor=cast.editor, institution=cast.institution, email="c@poly.example", role=Role.OWNER
        )


def test_the_last_owner_can_be_neither_demoted_nor_removed(cast: Cast) -> None:
    owner_row = Membership.objects.get(user=cast.owner, institution=cast.institution)
    with pytest.raises(ValidationError):
        services.change_member_role(actor=cast.owner, membership=owner_row, role=Role.EDITOR)
    with pytest.raises(ValidationError):
        services.remove_member(actor=cast.owner, membership=owner_row)
    editor_row = Membership.objects.get(user=cast.editor, institution=cast.institution)
    services.change_member_role(actor=cast.owner, membership=editor_row, role=Role.OWNER)
    services.change_member_role(actor=cast.editor, membership=owner_row, role=Role.VIEWER)
    owner_row.refresh_from_db()
    assert owner_row.role == Role.VIEWER


def test_removing_a_member_takes_away_their_access(cast: Cast) -> None:
    row = Membership.objects.get(user=cast.awarder, institution=cast.institution)
    services.remove_member(actor=cast.owner, membership=row)
    assert not Membership.objects.filter(user=cast.awarder).exists()
    event = AuditEvent.objects.get(action="member.removed")
    assert event.actor == cast.owner
    assert event.target == "awarder@poly.example"


def test_an_outsider_cannot_change_roles_in_another_institution(cast: Cast) -> None:
    row = Membership.objects.get(user=cast.awarder, institution=cast.institution)
    with pytest.raises(PermissionDenied):
        services.change_member_role(actor=cast.outsider, membership=row, role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        services.remove_member(actor=cast.outsider, membership=row)
