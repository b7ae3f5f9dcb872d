"""The staff console as staff use it: pages by role, forms, uploads and messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics import services as analytics_services
from issuers.models import Invitation, Issuer, Membership, Role
from tests.base import PASSWORD, CaptureCallbacks, Cast, png_bytes

pytestmark = pytest.mark.django_db

OWNER_ONLY = ["settings", "members", "issuer_create", "audit"]


def test_sign_in_with_any_capitalisation_of_the_email(client: Client, cast: Cast) -> None:
    response = client.post(
        reverse("manage:login"), {"username": " Owner@Poly.Example ", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("manage:home"), follow=True).request["PATH_INFO"] == "/manage/poly/"


def test_a_wrong_password_says_so(client: Client, cast: Cast) -> None:
    response = client.post(
        reverse("manage:login"), {"username": "owner@poly.example", "password": "nope"}
    )
    assert response.status_code == 200
    assert "That e-mail address and password do not match." in response.content.decode()


@pytest.mark.parametrize("name", OWNER_ONLY)
@pytest.mark.parametrize("role", ["editor", "awarder", "viewer"])
def test_owner_only_pages_are_forbidden_to_other_roles(
    client: Client, cast: Cast, name: str, role: str
) -> None:
    client.force_login(getattr(cast, role))
    response = client.get(reverse(f"manage:{name}", args=[cast.institution.slug]))
    assert response.status_code == 403


def test_other_roles_do_not_see_links_to_owner_pages(client: Client, cast: Cast) -> None:
    client.force_login(cast.awarder)
    body = client.get(reverse("manage:dashboard", args=["poly"])).content.decode()
    assert reverse("manage:members", args=["poly"]) not in body
    assert reverse("manage:settings", args=["poly"]) not in body
    assert "Awarder" in body


def test_an_owner_creates_an_issuer_with_a_logo_from_the_console(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.owner)
    logo = png_bytes()
    response = client.post(
        reverse("manage:issuer_create", args=["poly"]),
        {
            "slug": "poly-design",
            "name_en": "School of Design",
            "name_zh": "设计学院",
            "url": "https://poly.example/design",
            "email": "design@poly.example",
            "image": SimpleUploadedFile("logo.png", logo, content_type="image/png"),
        },
        follow=True,
    )
    assert "Issuer “School of Design” created." in response.content.decode()
    issuer = Issuer.objects.get(slug="poly-design")
    assert issuer.image is not None
    image = client.get(reverse("image", args=[issuer.image.pk]))
    assert image.content == logo
    assert image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff"


def test_an_oversized_logo_is_refused_and_nothing_is_created(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    response = client.post(
        reverse("manage:issuer_create", args=["poly"]),
        {
            "slug": "poly-huge",
            "name_en": "Huge",
            "url": "https://poly.example/huge",
            "email": "huge@poly.example",
            "image": SimpleUploadedFile("huge.png", png_bytes(3000, 10), content_type="image/png"),
        },
    )
    assert response.status_code == 200
    assert "limit is 2048 pixels per side" in response.content.decode()
    assert not Issuer.objects.filter(slug="poly-huge").exists()


def test_an_editor_edits_an_issuer_from_the_console(client: Client, cast: Cast) -> None:
    client.force_login(cast.editor)
    url = reverse("manage:issuer_edit", args=["poly", cast.issuer.slug])
    assert "Poly Engineering" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "name_en": "Faculty of Engineering",
            "url": "https://poly.example/eng",
            "email": "eng@poly.example",
        },
    )
    assert response.status_code == 302
    cast.issuer.refresh_from_db()
    assert cast.issuer.name_en == "Faculty of Engineering"


def test_an_awarder_cannot_edit_an_issuer_from_the_console(client: Client, cast: Cast) -> None:
    client.force_login(cast.awarder)
    url = reverse("manage:issuer_edit", args=["poly", cast.issuer.slug])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name_en": "X"}).status_code == 403


def test_an_owner_invites_changes_a_role_and_removes_a_member(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    client.force_login(cast.owner)
    members = reverse("manage:members", args=["poly"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("manage:member_invite", args=["poly"]),
            {"email": "newbie@poly.example", "role": Role.EDITOR, "issuer": cast.issuer.slug},
            follow=True,
        )
    assert "Invitation sent to newbie@poly.example." in response.content.decode()
    assert mail.outbox[-1].to == ["newbie@poly.example"]
    invitation = Invitation.objects.get(email="newbie@poly.example")
    assert invitation.issuer == cast.issuer
    assert "newbie@poly.example" in client.get(members).content.decode()

    row = Membership.objects.get(user=cast.viewer)
    client.post(reverse("manage:member_role", args=["poly", row.pk]), {"role": Role.AWARDER})
    row.refresh_from_db()
    assert row.role == Role.AWARDER

    response = client.post(reverse("manage:member_remove", args=["poly", row.pk]), follow=True)
    assert "viewer@poly.example was removed." in response.content.decode()
    assert not Membership.objects.filter(pk=row.pk).exists()


def test_an_invalid_invitation_shows_the_error_on_the_form(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    response = client.post(
        reverse("manage:member_invite", args=["poly"]), {"email": "not-an-email", "role": "owner"}
    )
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()


def test_the_last_owner_is_told_why_they_cannot_leave(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    row = Membership.objects.get(user=cast.owner, institution=cast.institution)
    response = client.post(reverse("manage:member_remove", args=["poly", row.pk]), follow=True)
    assert "An institution needs at least one owner." in response.content.decode()
    assert Membership.objects.filter(pk=row.pk).exists()


def test_an_invited_person_creates_an_account_and_joins(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    owner = Client()
    owner.force_login(cast.owner)
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(
            reverse("manage:member_invite", args=["poly"]),
            {"email": "fresh@poly.example", "role": Role.AWARDER},
        )
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/invitations/" in line)
    path = link.split("127.0.0.1:8000", 1)[1]
    page = client.get(path)
    assert "fresh@poly.example" in page.content.decode()
    weak = client.post(path, {"name": "Fresh", "password": "12345678"})
    assert weak.status_code == 400
    assert "too common" in weak.content.decode() or "entirely numeric" in weak.content.decode()
    response = client.post(path, {"name": "Fresh Person", "password": "a-long-good-passphrase"})
    assert response.status_code == 302
    assert Membership.objects.get(user__email="fresh@poly.example").role == Role.AWARDER
    assert client.get(reverse("manage:dashboard", args=["poly"])).status_code == 200
    assert client.get(path).status_code == 404


def test_the_audit_log_shows_who_did_what(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    client.post(
        reverse("manage:settings", args=["poly"]),
        {"name_en": "Poly Technic", "brand_colour": "#224466", "country": "NZ"},
    )
    body = client.get(reverse("manage:audit", args=["poly"])).content.decode()
    assert "Settings changed" in body
    assert "Olivia Owner" in body


def test_settings_reject_a_bad_colour_and_keep_the_old_one(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    response = client.post(
        reverse("manage:settings", args=["poly"]), {"name_en": "Poly", "brand_colour": "red"}
    )
    assert "Enter a colour as #" in response.content.decode()
    cast.institution.refresh_from_db()
    assert cast.institution.brand_colour == "#1f4e79"


def test_the_dashboard_shows_reach_as_totals_only(client: Client, cast: Cast) -> None:
    from earners.services import record_view
    from tests.badges.helpers import award, make_published

    version = make_published(cast.owner, cast.issuer)
    first = award(cast.owner, version, email="one@learner.example", name="Ana One")
    award(cast.owner, version, email="two@learner.example")
    record_view(award=first, channel="linkedin")
    record_view(award=first, channel="qr", kind="verification", organisation="Acme Hiring Ltd")
    # The figures are the analytics rollups, folded every minute from what has settled.
    analytics_services.fold(now=timezone.now() + timedelta(minutes=5))
    client.force_login(cast.awarder)
    body = client.get(reverse("manage:dashboard", args=["poly"])).content.decode()
    assert '<dd data-metric="issued">2</dd>' in body
    assert '<dd data-metric="viewed">1</dd>' in body
    assert '<dd data-metric="verified">1</dd>' in body
    assert "Acme Hiring Ltd" not in body
    assert "Ana One" not in body
